#!/usr/bin/env bash
# Starts hopwatch's demo: a lab cluster on loopback with healthy and broken routes.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
npm run --silent build
exec node bin/hopwatch.js demo "$@"
