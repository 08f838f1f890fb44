"""The one exception tree of opsproof.

Every error a user can cause derives from :class:`OpsproofError` and carries a message that
names what is wrong (file, line, key) and how to fix it, so the CLI prints it without a traceback.
"""


class OpsproofError(Exception):
    """Root of every error opsproof raises on purpose."""


class ConfigError(OpsproofError):
    """The configuration file is malformed or does not validate."""


class StackError(OpsproofError):
    """The reference stack could not be started, found or stopped."""


class SafetyError(OpsproofError):
    """An action was refused because the environment does not allow it."""
