#!/usr/bin/env bash
# The quick start: set up, make a sample video, index it, ask questions, print cited answers.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export PATH="$PWD/.venv/bin:$PATH"
out="$PWD/demo-out"
store="${MMAGENT_HOME:-$out/store}"
mkdir -p "$out"

echo "== 1. a sample video: a one-minute meeting, slides + speech (demo-out/meeting.mp4)"
[ -f "$out/meeting.mp4" ] || mmagent sample "$out/meeting.mp4"
echo "== 2. index it into $store"
mmagent index "$out/meeting.mp4" --store "$store"
echo "== 3. ask"
for q in "What is the invoice number for Globex?" \
         "Who will send the revised contract to Globex?" \
         "What is the marketing budget for the second quarter?" \
         "Where should visitors park?" \
         "What did they say about the football match?"; do
  echo
  echo "Q: $q"
  mmagent ask "$q" --store "$store"
done
echo
echo "== the same as JSON (mmagent ask ... --json)"
mmagent ask "When is the Globex invoice due?" --store "$store" --json
