#!/usr/bin/env bash
# The README's first command: set up, build, and run `vil-cdc demo` (a
# throwaway PostgreSQL, a demo table, live changes as JSON lines on stdout).
#
#   scripts/demo.sh [vil-cdc demo options, e.g. --max-events 50]
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
"$root/scripts/setup.sh"
exec "$root/build/tools/vil-cdc/vil-cdc" demo "$@"
