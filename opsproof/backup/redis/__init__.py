"""Redis: fingerprint at the snapshot point, BGSAVE, check the RDB, restore to scratch, compare."""
