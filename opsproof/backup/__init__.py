"""Backups that are proven to restore: fingerprint at backup time, restore to scratch, compare.

One subpackage per kind of data (``redis``, ``postgres``, ``files``), ``artifacts`` for backups a
team already takes, ``drill`` for an end-to-end disaster-recovery drill with measured RTO and
RPO. Verdicts are :class:`opsproof.probes.Observation` values, so suites judge them with
``verify`` like any other check. Nothing happens at import.
"""
