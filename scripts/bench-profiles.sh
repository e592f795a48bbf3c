#!/usr/bin/env bash
# `make bench-profiles`: compare release-profile and wasm-opt settings for the Worker on size
# and on the speed of its hot operations inside workerd (Argon2id above all).
#
# For each variant: the production crate is built for wasm32 with that profile (cargo
# --config overrides on top of Cargo.toml) and run through the same wasm-bindgen and wasm-opt
# as `make build` to measure the WASM (raw, gzip); the ops Worker (benches/wasm-ops) is built
# the same way, served by workerd and timed (edge-login-loadgen ops). Writes
# bench-results/profiles.json, which `make bench` folds into the report (section 5); copy it
# to benches/profiles.json to keep the comparison in the committed report.
#
# Takes ~15 minutes (one full build per variant). Uses its own target dir
# (target/bench-profiles) so the normal build cache is left alone.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
unset MAKEFLAGS MFLAGS MAKELEVEL MAKEOVERRIDES CARGO_MAKEFLAGS

OUT_JSON="${1:-bench-results/profiles.json}"
CARGO="${CARGO:-cargo}"
CARGO_BIN_DIR="${CARGO_BIN_DIR:-${CARGO_HOME:-$HOME/.cargo}/bin}"
WASM_BINDGEN_BIN="${WASM_BINDGEN_BIN:-$CARGO_BIN_DIR/wasm-bindgen}"
WASM_OPT_BIN="${WASM_OPT_BIN:-}"
WORKERD="$repo/node_modules/.bin/workerd"
LOADGEN="$repo/target/bench-tools/edge-login-loadgen"
WORK="$repo/target/bench-profiles"
export BENCH_TARGET_DIR="$WORK/target"
FEATURES=(--enable-mutable-globals --enable-sign-ext --enable-nontrapping-float-to-int
  --enable-bulk-memory --enable-multivalue --enable-reference-types --enable-exception-handling)

# The crates whose code is hot in the measured operations (Argon2id, BLAKE2b, Ed25519,
# HMAC-SHA-1/-256, AES-GCM).
HOT_CRATES=(argon2 blake2 ed25519-compact sha1 sha2 hmac aes aes-gcm ghash polyval)
hot_config() {
  local c out=()
  for c in "${HOT_CRATES[@]}"; do out+=("--config" "profile.release.package.$c.opt-level=3"); done
  echo "${out[*]}"
}

# The crates of Argon2id, the one operation that costs milliseconds.
ARGON2_AT_3="--config profile.release.package.argon2.opt-level=3 --config profile.release.package.blake2.opt-level=3"
NO_SIMD="-C target-feature=-simd128"

# name | cargo args | wasm-opt flags ("none": no wasm-opt) | RUSTFLAGS (empty: the repository's
# .cargo/config.toml, which turns on simd128 for wasm32)
VARIANTS=(
  "z|--config profile.release.opt-level=\"z\"|none|$NO_SIMD"
  "z|--config profile.release.opt-level=\"z\"|-O|$NO_SIMD"
  "s|--config profile.release.opt-level=\"s\"|-O|$NO_SIMD"
  "3|--config profile.release.opt-level=3|-O|$NO_SIMD"
  "z, hot crypto crates at 3|--config profile.release.opt-level=\"z\" $(hot_config)|-O|$NO_SIMD"
  "z, simd128|--config profile.release.opt-level=\"z\"|-O|"
  "3, simd128|--config profile.release.opt-level=3|-O|"
  "z, no LTO, argon2 + blake2 at 3|--config profile.release.lto=false $ARGON2_AT_3|-O|$NO_SIMD"
  "z, no LTO, argon2 + blake2 at 3, simd128|--config profile.release.lto=false $ARGON2_AT_3|-O|"
  "z, no LTO, argon2 + blake2 at 3, simd128|--config profile.release.lto=false $ARGON2_AT_3|-Oz|"
)
if [[ -n "${BENCH_PROFILE_VARIANTS:-}" ]]; then
  IFS=';' read -r -a VARIANTS <<<"$BENCH_PROFILE_VARIANTS"
fi

mkdir -p "$WORK" "$(dirname "$OUT_JSON")"
"$CARGO" build --locked --profile bench-tools -p edge-login-loadgen

results="$WORK/results.jsonl"
: >"$results"
pgid=""
cleanup() { [[ -n "$pgid" ]] && kill -TERM -- "-$pgid" 2>/dev/null || true; }
trap cleanup EXIT

for v in "${VARIANTS[@]}"; do
  IFS='|' read -r name cargo_args opt rustflags <<<"$v"
  echo "== profiles: opt-level $name, wasm-opt $opt${rustflags:+, RUSTFLAGS $rustflags}" >&2
  flags=()
  [[ -n "$rustflags" ]] && flags=(RUSTFLAGS="$rustflags")
  if [[ "$opt" != none && -z "$WASM_OPT_BIN" ]]; then
    echo "   (no wasm-opt available: skipped)" >&2
    continue
  fi
  read -r -a extra <<<"$cargo_args"
  t0=$(date +%s.%N)
  # The production crate, as worker-build builds it.
  env "${flags[@]}" WASM_BINDGEN_USE_JS_SYS=1 CARGO_TARGET_DIR="$BENCH_TARGET_DIR" \
    "$CARGO" build --lib --release --target wasm32-unknown-unknown "${extra[@]}" >"$WORK/build.log" 2>&1 ||
    { tail -n 30 "$WORK/build.log" >&2; exit 1; }
  build_s=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.0f", b - a }')
  rm -rf "$WORK/main"
  "$WASM_BINDGEN_BIN" "$BENCH_TARGET_DIR/wasm32-unknown-unknown/release/edge_login.wasm" \
    --out-dir "$WORK/main" --no-typescript --target module --out-name index \
    --experimental-reset-state-function --force-enable-abort-handler
  if [[ "$opt" != none ]]; then
    read -r -a level <<<"$opt"
    "$WASM_OPT_BIN" "$WORK/main/index_bg.wasm" -o "$WORK/main/opt.wasm" "${level[@]}" "${FEATURES[@]}" --debuginfo
    mv "$WORK/main/opt.wasm" "$WORK/main/index_bg.wasm"
  fi
  raw=$(stat -c %s "$WORK/main/index_bg.wasm")
  gz=$(gzip -9c "$WORK/main/index_bg.wasm" | wc -c)

  # The ops Worker with the same settings, timed in workerd.
  port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  if [[ "$opt" == none ]]; then
    ops_env=(env -u WASM_OPT_BIN "${flags[@]}")
  else
    ops_env=(env "${flags[@]}" WASM_OPT_BIN="$WASM_OPT_BIN" WASM_OPT_FLAGS="$opt")
  fi
  "${ops_env[@]}" BENCH_CARGO_ARGS="$cargo_args" scripts/bench-wasm-ops.sh "$WORK/ops" "$port" >"$WORK/ops-build.log" 2>&1 ||
    { tail -n 30 "$WORK/ops-build.log" >&2; exit 1; }
  (cd "$WORK/ops" && exec setsid "$WORKERD" serve ops.capnp </dev/null >workerd.log 2>&1) &
  pgid=$!
  "$LOADGEN" wait --base-url "http://127.0.0.1:$port" --timeout 30 >/dev/null 2>&1 || true
  "$LOADGEN" ops --base-url "http://127.0.0.1:$port" --cpu-pgid "$pgid" --out "$WORK/ops.json" >/dev/null
  kill -TERM -- "-$pgid" 2>/dev/null || true
  wait "$pgid" 2>/dev/null || true
  pgid=""
  python3 - "$WORK/ops.json" "$name" "$opt" "$raw" "$gz" "$build_s" >>"$results" <<'PY'
import json, sys
ops = {o["name"]: o for o in json.load(open(sys.argv[1]))["ops"]}
cpu = lambda n: ops[n]["cpu_us_per_op"] if ops[n]["cpu_us_per_op"] is not None else ops[n]["wall_us_per_op"]
print(json.dumps({
    "opt_level": sys.argv[2],
    "wasm_opt": sys.argv[3],
    "wasm_raw": int(sys.argv[4]),
    "wasm_gzip": int(sys.argv[5]),
    "build_s": float(sys.argv[6]),
    "argon2id_verify_us": cpu("argon2id_verify"),
    "argon2id_hash_us": cpu("argon2id_hash"),
    "totp_verify_us": cpu("totp_verify"),
    "jwt_sign_us": cpu("jwt_sign"),
    "jwt_verify_us": cpu("jwt_verify"),
}))
PY
  tail -n 1 "$results" >&2
done

python3 - "$results" "$OUT_JSON" "${BENCH_PROFILES_CHOSEN:-}" "${BENCH_PROFILES_NOTE:-}" <<'PY'
import datetime, json, sys
variants = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
json.dump({
    "date": datetime.date.today().isoformat(),
    "variants": variants,
    "chosen": sys.argv[3] or None,
    "note": sys.argv[4] or None,
}, open(sys.argv[2], "w"), indent=2)
print("wrote", sys.argv[2], file=sys.stderr)
PY
