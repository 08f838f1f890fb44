"""Proof that a memory fault bit: read from the memory cgroup's own counters (cgroup v1).

A limit proves something only over memory it holds. A process moved into a new cgroup keeps
every page it already has charged to its old one (unless the kernel moves charges, which Linux
6.x no longer does), so a limit on the new cgroup bites only the stressor: the OOM killer may
still pick the service — its whole RSS counts in the choice — and the experiment is a kill
that proves nothing about memory. So the fault records what the limit held of the service
when it went in, and the effect is proven only when that was the service's working set *and*
the cgroup's counters show the limit hit and the OOM killer acting in it.
"""

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from opsproof.faults import cgroups
from opsproof.probes.result import Figure, Observation

ChargeMode = Literal["own cgroup", "moved with its charges", "moved, charges left behind"]

CHARGED_SHARE = 0.99
"""Of the working set that must be charged: a process's RSS counters may lag its pages by a
few dozen pages per thread, the cgroup's charge never does."""


def anonymous_bytes(pids: list[int]) -> int:
    """Resident anonymous memory of ``pids``: the heap and stacks they built, which no reclaim
    takes back without swap — the working set a limit must hold. Proportional (``Pss_Anon``),
    so the pages forked workers share count once, as they are charged; ``RssAnon`` on kernels
    without it."""
    total = 0
    for pid in pids:
        rollup = _kilobytes(Path(f"/proc/{pid}/smaps_rollup"))
        if "Pss_Anon" in rollup:
            total += rollup["Pss_Anon"]
        else:
            total += _kilobytes(Path(f"/proc/{pid}/status")).get("RssAnon", 0)
    return total


def _kilobytes(path: Path) -> dict[str, int]:
    """The ``Name:  123 kB`` lines of a /proc file, in bytes; empty when it cannot be read."""
    try:
        lines = path.read_text().splitlines()
    except OSError:
        return {}
    found = {}
    for line in lines:
        name, _, value = line.partition(":")
        words = value.split()
        if len(words) == 2 and words[1] == "kB" and words[0].isdigit():
            found[name] = int(words[0]) * 1024
    return found


@dataclass(frozen=True)
class Charge:
    """What the limit's cgroup held of the service when the fault went in (no stressor yet)."""

    mode: ChargeMode
    working_set: int
    """The service's resident anonymous bytes."""
    charged: int
    """Anonymous bytes charged to the cgroup (``memory.stat`` ``total_rss``)."""

    @classmethod
    def measure(cls, mode: ChargeMode, cgroup: Path, pids: list[int]) -> "Charge":
        charged = cgroups.read_stat(cgroup, "memory.stat").get("total_rss", 0)
        return cls(mode, anonymous_bytes(pids), charged)

    @property
    def held(self) -> bool:
        return self.working_set > 0 and self.charged >= self.working_set * CHARGED_SHARE


@dataclass(frozen=True)
class Counters:
    """A memory cgroup's counters at one moment."""

    limit: int
    usage: int
    peak: int
    failcnt: int
    """Charges that hit the limit (each one made the kernel reclaim or fail)."""
    oom_kills: int
    """Processes the OOM killer killed in this cgroup."""
    under_oom: bool

    @classmethod
    def read(cls, cgroup: Path) -> "Counters":
        oom = cgroups.read_stat(cgroup, "memory.oom_control")
        return cls(
            limit=cgroups.read_number(cgroup, "memory.limit_in_bytes"),
            usage=cgroups.read_number(cgroup, "memory.usage_in_bytes"),
            peak=cgroups.read_number(cgroup, "memory.max_usage_in_bytes"),
            failcnt=cgroups.read_number(cgroup, "memory.failcnt"),
            oom_kills=oom.get("oom_kill", 0),
            under_oom=bool(oom.get("under_oom", 0)),
        )

    def since(self, before: "Counters") -> "Counters":
        """The cumulative counts since ``before`` (a cgroup of the service's own has a past)."""
        return Counters(
            self.limit,
            self.usage,
            self.peak,
            self.failcnt - before.failcnt,
            self.oom_kills - before.oom_kills,
            self.under_oom,
        )


def judge(target: str, charge: Charge, during: Counters, service_alive: bool) -> Observation:
    """Proven only when the limit held the service's working set, was hit, and the OOM killer
    acted under it; the figures say which part is missing otherwise."""
    figures = {
        "charge": Figure(charge.mode),
        "working_set_bytes": Figure(charge.working_set, "B"),
        "charged_bytes": Figure(
            charge.charged, "B", f">= {round(charge.working_set * CHARGED_SHARE)}"
        ),
        "limit_bytes": Figure(during.limit, "B"),
        "usage_bytes": Figure(during.usage, "B"),
        "peak_bytes": Figure(during.peak, "B"),
        "failcnt": Figure(during.failcnt, target="> 0"),
        "oom_kills": Figure(during.oom_kills, target="> 0"),
        "under_oom": Figure(during.under_oom),
        "service_killed": Figure(not service_alive),
    }
    mib = charge.working_set / (1 << 20)
    if not charge.held:
        why = (
            "this kernel does not move a process's charges to its new cgroup; run the service "
            "in a memory cgroup of its own (a systemd unit, a container) and the limit goes "
            "there"
            if charge.mode == "moved, charges left behind"
            else "its pages are charged elsewhere"
        )
        reason = (
            f"the limit did not hold {target}'s working set: {charge.charged / (1 << 20):.1f} "
            f"of its {mib:.1f} MiB charged ({charge.mode}; {why}); nothing was stressed"
        )
        return Observation(False, target, reason, figures)
    held = f"{mib:.1f} MiB of {target} charged to a {during.limit / (1 << 20):.1f} MiB limit"
    if during.failcnt <= 0 or during.oom_kills <= 0:
        reason = (
            f"{held}, but the limit was hit {during.failcnt} times and the OOM killer acted "
            f"{during.oom_kills} times in its cgroup: no pressure shown"
        )
        return Observation(False, target, reason, figures)
    who = "the service was OOM-killed" if not service_alive else "the service survived"
    reason = (
        f"{held} ({charge.mode}); the limit was hit {during.failcnt} times (peak "
        f"{during.peak / (1 << 20):.1f} MiB) and the OOM killer acted {during.oom_kills} "
        f"times in its cgroup; {who}"
    )
    return Observation(True, target, reason, figures)
