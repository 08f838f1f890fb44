"""nftables tables owned by one fault: load a ruleset, read its counters, delete it.

The kernel here has no netem qdisc, but nftables (with the net_cls ``meta cgroup`` match) acts
on one process's packets, existing connections included, and its counters prove the effect.
"""

import json
import shutil
import subprocess

from opsproof.errors import SafetyError

NFT_TIMEOUT = 10.0
FAMILY = "inet"


def _nft(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    program = shutil.which("nft")
    if program is None:
        raise SafetyError("nft not found: install nftables (apt-get install nftables)")
    return subprocess.run(
        [program, *args], input=stdin, capture_output=True, text=True, timeout=NFT_TIMEOUT
    )


VERDICTS = ("blackhole", "reset", "loss")
"""The modes a rule alone can do (latency needs a proxy or netem)."""


def verdict(mode: str, loss: float) -> str:
    """The rule's counted verdict for a partition mode (blackhole, reset or loss)."""
    return {
        "blackhole": "counter drop",
        "reset": "counter reject with tcp reset",
        "loss": f"numgen random mod 1000 < {round(loss * 1000)} counter drop",
    }[mode]


def in_words(mode: str, loss: float) -> str:
    """What a rule of ``verdict`` does to the traffic, for the plan and the evidence."""
    named = {"reset": "TCP resets", "blackhole": "partition (packets dropped)"}
    return named.get(mode, f"{loss:.0%} packet loss")


def output_table(table: str, rule: str) -> str:
    """A table of one output-hook chain holding ``rule`` (the rule sees the packets this
    namespace's processes send, before routing)."""
    chain = f"type filter hook output priority 0; policy accept; {rule};"
    return f"table {FAMILY} {table} {{\n  chain out {{ {chain} }}\n}}\n"


def table_name(fault_id: str) -> str:
    """The fault's own table: ``opsproof-<id>``, nothing else's rules in it."""
    return f"opsproof-{fault_id}"


def load(ruleset: str) -> None:
    """Apply a ruleset atomically (``nft -f -``); raise with nft's own message if it fails."""
    done = _nft("-f", "-", stdin=ruleset)
    if done.returncode != 0:
        raise SafetyError(f"nft refused the fault's rules: {done.stderr.strip()}")


def delete(table: str) -> None:
    """Remove the table; nothing to do when it is already gone (idempotent)."""
    done = _nft("delete", "table", FAMILY, table)
    if done.returncode != 0 and "No such file" not in done.stderr:
        raise SafetyError(f"nft could not delete table {table}: {done.stderr.strip()}")


def packets(table: str) -> int:
    """Packets counted by every counter in the table (0 when it does not exist)."""
    done = _nft("-j", "list", "table", FAMILY, table)
    return counted(done.stdout) if done.returncode == 0 else 0


def counted(listing: str) -> int:
    """Packets counted by every counter of ``nft -j list table``'s output (this machine's,
    a container's network namespace or another host's)."""
    total = 0
    for item in json.loads(listing).get("nftables", []):
        for expr in item.get("rule", {}).get("expr", []):
            if "counter" in expr:
                total += int(expr["counter"]["packets"])
    return total
