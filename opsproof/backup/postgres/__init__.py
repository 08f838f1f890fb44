"""PostgreSQL: exported snapshot, per-table fingerprint, pg_dump, restore to a scratch cluster,
compare per table, schema, grants and roles, and pg_amcheck."""
