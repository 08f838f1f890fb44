#!/usr/bin/env bash
# The main job: set up, then run every suite (gate, dr, chaos, load) against the reference stack
# and write a report per suite.
# Extra arguments go to `opsproof run all` (e.g. --env staging --config my.yaml).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/opsproof run all "$@"
