"""Backups a team already takes (a directory of dated RDB files, pg_dump archives, tarballs):
is the newest fresh enough for the RPO, intact, and does it restore to what it recorded?"""
