#!/usr/bin/env bash
# The demo tour: runs the tour examples, then every seed scenario in order, each under a
# heading, and checks each seed against its expected output.
set -uo pipefail
build=${1:-build/dev}
root=$(cd "$(dirname "$0")/.." && pwd)
status=0
for exe in "$build"/examples/example_*; do
  [ -x "$exe" ] || continue
  echo "=== $(basename "$exe" | sed 's/^example_//')"
  "$exe" || status=1
  echo
done
for exe in "$build"/examples/seed_*; do
  [ -x "$exe" ] || continue
  stem=$(basename "$exe" | sed 's/^seed_//')
  echo "=== seed $stem"
  out=$("$exe" 2>/dev/null)
  echo "$out"
  if [ "$out" == "$(cat "$root/examples/seeds/expected/$stem.out")" ]; then
    echo "--- matches the Python output"
  else
    echo "--- DIFFERS from examples/seeds/expected/$stem.out"; status=1
  fi
  echo
done
exit $status
