#!/usr/bin/env bash
# Build the bench-only ops Worker (benches/wasm-ops) the way worker-build builds the
# production Worker: `cargo build --release --target wasm32-unknown-unknown` with the root
# [profile.release] and the root Cargo.lock's versions, the same wasm-bindgen CLI, and the
# same wasm-opt binary and flags. Output: OUT_DIR/build/ (worker.js, ops_bg.wasm) and
# OUT_DIR/ops.capnp for `workerd serve` (listening on 127.0.0.1:PORT).
#
#   scripts/bench-wasm-ops.sh OUT_DIR PORT [COMPAT_DATE]
#
# The crate is staged under OUT_DIR/crate (no generated file lands in the work tree) with its
# `edge-login` path pointing at this repository. CARGO_PROFILE_RELEASE_* variables override
# the profile as usual; BENCH_CARGO_ARGS adds cargo flags and BENCH_TARGET_DIR moves the target
# dir (scripts/bench-profiles.sh uses both). WASM_OPT_BIN: the wasm-opt to
# use (none: skipped, like `make build` without one); WASM_OPT_FLAGS overrides its level.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="$(mkdir -p "$1" && cd "$1" && pwd)"
port="$2"
compat="${3:-$(awk -F'"' '/^compatibility_date/ { print $2; exit }' "$repo/wrangler.toml")}"

CARGO="${CARGO:-cargo}"
CARGO_BIN_DIR="${CARGO_BIN_DIR:-${CARGO_HOME:-$HOME/.cargo}/bin}"
WASM_BINDGEN_BIN="${WASM_BINDGEN_BIN:-$CARGO_BIN_DIR/wasm-bindgen}"

stage="$out/crate"
rm -rf "$stage" "$out/build"
mkdir -p "$stage/benches" "$out/build"
cp -r "$repo/benches/wasm-ops" "$repo/benches/common" "$stage/benches/"
crate="$stage/benches/wasm-ops"
sed -i "s#^edge-login = { path = \"../..\" }#edge-login = { path = \"$repo\" }#" "$crate/Cargo.toml"
grep -q "path = \"$repo\"" "$crate/Cargo.toml"
awk '/^\[/ { on = ($0 ~ /^\[profile\.release(\.package\.[^]]+)?\]/) } on { print }' "$repo/Cargo.toml" >>"$crate/Cargo.toml"
cp "$repo/Cargo.lock" "$crate/Cargo.lock"
# The repository's cargo config (wasm32 target features) is found from the working directory.
mkdir -p "$stage/.cargo"
cp "$repo/.cargo/config.toml" "$stage/.cargo/config.toml"

# As worker-build does (it also sets this for the wasm-bindgen proc-macro).
export WASM_BINDGEN_USE_JS_SYS=1
# Shared target dir: the dependencies already built for the production Worker are reused.
# BENCH_CARGO_ARGS: extra cargo arguments, e.g. --config 'profile.release.opt-level=3'.
target_dir="${BENCH_TARGET_DIR:-$repo/target}"
read -r -a extra <<<"${BENCH_CARGO_ARGS:-}"
(cd "$crate" && CARGO_TARGET_DIR="$target_dir" "$CARGO" build --release --target wasm32-unknown-unknown "${extra[@]}")
"$WASM_BINDGEN_BIN" "$target_dir/wasm32-unknown-unknown/release/edge_login_wasm_ops.wasm" \
  --out-dir "$out/build" --out-name ops --target web --no-typescript

if [[ -n "${WASM_OPT_BIN:-}" ]]; then
  # worker-build: [package.metadata.wasm-pack.profile.release] wasm-opt, else "-O"; then the
  # explicit feature set and --debuginfo.
  flags="${WASM_OPT_FLAGS:-$(awk '
    /^\[package\.metadata\.wasm-pack\.profile\.release\]/ { on = 1; next }
    /^\[/ { on = 0 }
    on && $1 == "wasm-opt" { sub(/^[^=]*= *\[/, ""); sub(/\].*$/, ""); gsub(/[",]/, " "); print }
  ' "$repo/Cargo.toml")}"
  read -r -a level <<<"${flags:--O}"
  "$WASM_OPT_BIN" "$out/build/ops_bg.wasm" -o "$out/build/ops_bg.opt.wasm" "${level[@]}" \
    --enable-mutable-globals --enable-sign-ext --enable-nontrapping-float-to-int \
    --enable-bulk-memory --enable-multivalue --enable-reference-types \
    --enable-exception-handling --debuginfo
  mv "$out/build/ops_bg.opt.wasm" "$out/build/ops_bg.wasm"
  echo "wasm-opt: ${level[*]}"
fi

cat >"$out/build/entry.js" <<'JS'
// GET /op?name=<operation>&n=<iterations> -> 200 (404 for an unknown operation).
import { initSync, bench_op } from "./ops.js";
import module from "./ops_bg.wasm";

initSync({ module });

export default {
  fetch(request) {
    const url = new URL(request.url);
    const name = url.searchParams.get("name") ?? "noop";
    const n = Math.min(Math.max(Number(url.searchParams.get("n") ?? 1) | 0, 1), 1000000);
    const text = bench_op(name, n);
    return text === undefined
      ? new Response(`unknown operation ${name}\n`, { status: 404 })
      : new Response(text);
  },
};
JS

# One module besides the wasm: wasm-bindgen's output imports snippet files (as worker-build
# does, bundle with esbuild and keep the wasm import for workerd).
ESBUILD_BIN="${ESBUILD_BIN:-$(ls "$repo"/node_modules/@esbuild/*/bin/esbuild 2>/dev/null | head -n1)}"
"${ESBUILD_BIN:-$repo/node_modules/.bin/esbuild}" "$out/build/entry.js" --bundle --format=esm \
  --external:./ops_bg.wasm --outfile="$out/build/worker.js" --log-level=warning

cat >"$out/ops.capnp" <<CAPNP
using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [ (name = "main", worker = .w) ],
  sockets = [ (name = "http", address = "127.0.0.1:$port", http = (), service = "main") ],
);
const w :Workerd.Worker = (
  modules = [
    (name = "worker.js", esModule = embed "build/worker.js"),
    (name = "ops_bg.wasm", wasm = embed "build/ops_bg.wasm"),
  ],
  compatibilityDate = "$compat",
);
CAPNP
ls -l "$out/build/ops_bg.wasm"
