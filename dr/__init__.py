"""The DR suite: backups restored to scratch and compared, existing backups, the drill."""
