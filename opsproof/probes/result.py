"""What a probe returns: a verdict, a reason, and the measured figures behind it."""

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Figure:
    """A measured value, with the target it was judged against (for evidence and reports)."""

    value: float | int | str | bool | None
    unit: str = ""
    target: str | None = None
    """The condition the value had to meet, written for people: ``>= 14``, ``< 0.9``."""


@dataclass(frozen=True)
class Observation:
    """The outcome of one probe against one target."""

    ok: bool
    target: str
    """Readable target id: ``redis://127.0.0.1:6390``, ``GET https://127.0.0.1:8443/health``."""
    reason: str
    """Why it passed or failed, naming the target: shown as the assertion message."""
    figures: dict[str, Figure] = field(default_factory=dict)
    elapsed_s: float = 0.0
    applicable: bool = True
    """False: there was nothing to judge (no limit set, nothing expected declared); the check
    is *not applicable*, never passed. ``ok`` is then False too, so nothing reads it as a pass."""

    def __bool__(self) -> bool:
        return self.ok
