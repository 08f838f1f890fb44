#!/usr/bin/env bash
# The project's own tests: set up, lint, type-check, then every test (real servers, no mocks).
# Fails on any failure, and on a run that executed no test (pytest exit 5).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy
.venv/bin/lint-imports  # the layers of docs/architecture.md, written as contracts in pyproject.toml
# pytest rewrites the asserts of every module of a plugin's distribution (opsproof, Schemathesis,
# Hypothesis, anyio: ~480 modules) and keeps the result as bytecode only where it may write
# bytecode; under PYTHONDONTWRITEBYTECODE each of the tests' pytest processes (every suite run as
# a user runs it) rewrites them all again: half of a gate run's CPU time here (8 s → 4 s).
unset PYTHONDONTWRITEBYTECODE
# Three workers: the long tests mostly wait on servers, subprocesses and the guest, not on CPU (a
# serial run took 47 min on 2 cores, 12 of them the guest's). tests/groups.py keeps the tests of
# one shared deployment (the guest, the session's reference and docker stacks, the wheel's
# virtualenv) on one worker in serial order and starts the guest's group first, the longest
# chain (--no-loadscope-reorder keeps that order). Tests marked alone measure rates and latency
# under load they make: they run afterwards, with no neighbour.
parallel=0
.venv/bin/python -m pytest tests -n 3 --dist loadscope --no-loadscope-reorder -m "not alone" \
  --durations=0 --durations-min=3 "$@" || parallel=$?  # every test over 3 s: where CI time goes
alone=0
.venv/bin/python -m pytest tests -m alone --durations=0 --durations-min=3 "$@" || alone=$?
# The first failure's status; 5 (no test ran) only when neither run executed a test.
for status in "$parallel" "$alone"; do
  if [ "$status" -ne 0 ] && [ "$status" -ne 5 ]; then exit "$status"; fi
done
if [ "$parallel" -eq 5 ] && [ "$alone" -eq 5 ]; then exit 5; fi
exit 0
