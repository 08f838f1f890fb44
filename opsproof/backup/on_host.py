"""A backup made on the host its server runs on (its runtime's host, under ``hosts:``) and
copied here over the run's SSH session: what a Redis RDB copy and ``pg_dump: host`` share."""

from dataclasses import dataclass

from opsproof.config.models import HostSpec


@dataclass(frozen=True)
class OnHost:
    """The server's host, by its name under ``hosts:``, and the largest copy it may send."""

    host_name: str
    host: HostSpec
    max_size: int
    """A larger file or archive is refused (``max_copy_size``)."""
