"""The disaster-recovery drill on the reference stack: back up, destroy, restore, measure RTO
and RPO. Its parts that need no stack (timeline, acknowledged writes, checks, objectives) are
in opsproof.backup.drill."""
