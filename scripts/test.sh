#!/usr/bin/env bash
# Runs hopwatch's whole test suite (installs what is missing first). It takes about 12 minutes on
# a 2-core machine (the line before the closing counts says how long this run took).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --tests
mkdir -p test-output
# Written to a file or a pipe (CI logs), the log has no colour codes; FORCE_COLOR=1 keeps them.
if [ ! -t 1 ] && [ -z "${FORCE_COLOR:-}" ]; then export NO_COLOR=1; fi
echo "test: the whole suite takes about 12 minutes on 2 cores" >&2
started=$(date +%s)
status=0
npx vitest run --reporter=default --reporter=json --outputFile.json=test-output/vitest.json "$@" || status=$?
# One plain closing line with the counts, whatever the reporter printed above.
node -e '
  const r = JSON.parse(require("fs").readFileSync("test-output/vitest.json", "utf8"));
  const skipped = r.numPendingTests + r.numTodoTests;
  const took = Math.round(Date.now() / 1000) - Number(process.argv[1]);
  console.log(`test: the suite took ${Math.floor(took / 60)}m ${String(took % 60).padStart(2, "0")}s`);
  // The last line alone, in the plain form CI reads: "N passed, N failed[, N skipped]".
  console.log(`${r.numPassedTests} passed, ${r.numFailedTests} failed` + (skipped ? `, ${skipped} skipped` : ""));
' "$started" || true
exit "$status"
