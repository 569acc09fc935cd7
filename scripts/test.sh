#!/usr/bin/env bash
# Runs hopwatch's whole test suite (installs what is missing first).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
npx vitest run "$@"
