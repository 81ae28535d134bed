#!/usr/bin/env bash
# The test command: set up (idempotent), then the whole suite on real models and real media
# from ../shared/data (tests that need it skip with a reason when it is absent).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export PATH="$PWD/.venv/bin:$PATH"
rc=0
.venv/bin/python -m pytest "$@" || rc=$?
if [ "$rc" -eq 5 ]; then
  echo "test: no tests were collected" >&2
fi
exit "$rc"
