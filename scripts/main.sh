#!/usr/bin/env bash
# The main job: set up, then run the full suite against the reference stack and write the report.
# Extra arguments go to `opsproof run gate` (e.g. --env staging --config my.yaml).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/opsproof run gate "$@"
