"""What a drill must achieve: recovery time and recovery point objectives."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Targets:
    """RTO and RPO targets in seconds, per system and for the service as a whole."""

    redis: tuple[float, float]
    postgres: tuple[float, float]
    service: tuple[float, float]
