"""The error a backup, restore or comparison step raises when it cannot go on."""

from opsproof.errors import OpsproofError


class BackupError(OpsproofError):
    """A backup or restore step failed; the message names the step, the file and the cause."""
