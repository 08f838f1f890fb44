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
exec .venv/bin/python -m pytest tests --durations=30 "$@"  # the slowest tests, to keep CI well under 30 min
