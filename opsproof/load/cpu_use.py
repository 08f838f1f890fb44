"""A generator process's CPU use over a run, in constant memory: one sample a second for hours
would otherwise be a list as long as the run, kept by every worker and the master."""

from pydantic import BaseModel

CPU_SATURATED = 90.0
"""Percent of one core: Locust's own warning level."""


class CpuUse(BaseModel):
    """What the health verdict and the evidence read of a process's per-second CPU samples."""

    samples: int = 0
    peak: float = 0.0
    """Highest sample, in percent of one core."""
    longest_saturated_s: int = 0
    """Longest run of consecutive samples at or above ``CPU_SATURATED``."""
    saturated_now_s: int = 0
    """The run of saturated samples still going at the last sample."""

    def add(self, percent: float) -> None:
        self.samples += 1
        self.peak = max(self.peak, percent)
        self.saturated_now_s = self.saturated_now_s + 1 if percent >= CPU_SATURATED else 0
        self.longest_saturated_s = max(self.longest_saturated_s, self.saturated_now_s)
