#!/usr/bin/env bash
# Sets everything up, builds the page and serves it on http://127.0.0.1:${PORT:-8080}/.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
"$ROOT/scripts/setup.sh"
"$ROOT/scripts/build-web.sh"
log "open http://127.0.0.1:${PORT:-8080}/ (Ctrl-C stops the server)"
exec node "$ROOT/tests/e2e/serve.mjs" "$ROOT/dist" "${PORT:-8080}"
