#!/usr/bin/env bash
# wasm-opt for release builds, called by worker-build through WASM_OPT_BIN.
#
# The real wasm-opt is binaryen's from the pinned npm package (Debian's is too old to read
# current rustc output). worker-build passes --debuginfo, which keeps the function-name
# section: about 40 KB of the gzipped WASM that every cold start downloads and compiles.
# This wrapper drops that flag, so the deployed module has no names (a panic still logs
# its message; stack frames show function indices instead of names).
#
#   scripts/wasm-opt.sh --check   exit 0 when a recent enough wasm-opt is installed
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
real="${WASM_OPT_REAL:-$root/node_modules/.bin/wasm-opt}"
min_version=132

if [[ "${1:-}" == "--check" ]]; then
  version="$("$real" --version 2>/dev/null | grep -oE '[0-9]+' | head -n1 || true)"
  [[ "${version:-0}" -ge $min_version ]]
  exit
fi

args=()
for arg in "$@"; do
  case "$arg" in
    --debuginfo | -g) ;;
    *) args+=("$arg") ;;
  esac
done
exec "$real" "${args[@]}"
