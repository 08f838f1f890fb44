"""``opsproof revert``: undo, by hand, every fault the ledger still lists as open (a chaos
experiment's, or a DR drill's data moved aside)."""

import sys
from pathlib import Path

import click

from opsproof.runtimes.launched import default_state_dir


@click.command()
@click.option(
    "--state-dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="State directory whose chaos ledger to read (default: $OPSPROOF_STATE_DIR or "
    "~/.local/state/opsproof).",
)
@click.option("--dry-run", is_flag=True, help="List the open faults and their undo; touch nothing.")
def revert(state_dir: Path | None, dry_run: bool) -> None:
    """Revert every fault left open by a chaos run or a DR drill (one that crashed, or whose
    watchdog died): a drill's data moved aside is put back and its services started.

    Each fault's inverse operations were written to the ledger before it was injected, so no
    config is needed. Exit status 0 when nothing is left open, 1 when a revert failed.
    """
    from opsproof.faults.ledger import Ledger, ledger_path
    from opsproof.faults.rollback import revert_leftovers

    ledger = Ledger(ledger_path(state_dir or default_state_dir()))
    open_faults = ledger.open_faults()
    if not open_faults:
        click.echo(f"no open faults in {ledger.path}")
        return
    if dry_run:
        for entry in open_faults:
            live = " (its run is still alive)" if entry.owner_alive() else ""
            undo = "; ".join(step.describe() for step in entry.inverse)
            click.echo(f"open: {entry.fault}{live}\n  undo: {undo}")
        return
    failed = False
    for reverted in revert_leftovers(ledger, "opsproof revert", live_owners=True):
        click.echo(reverted.describe())
        failed = failed or bool(reverted.problems)
    sys.exit(1 if failed else 0)
