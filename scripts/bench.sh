#!/usr/bin/env bash
# `make bench`: measure the production Worker and write bench-results/REPORT.md + latency.png
# (copied to docs/PERFORMANCE.md + docs/latency.png). Never part of `make test`.
#
# Expects `make tools build dev-vars` to have run (the Makefile's bench target does that), so
# build/ holds the production build (`make build`, the same one `wrangler deploy` runs).
#
# Steps (each writes one JSON file into $BENCH_OUT; a failed step leaves "n/a" in the report):
#   env        machine, versions, build profile            env.json
#   size       WASM raw/gzip, before/after wasm-opt        size.json
#   coldstart  wrangler dev and bare workerd start-up      coldstart.json
#   routes     per-route latency at concurrency 1          routes.json
#   load       N virtual users, throughput, nothing lost   load.json
#   cpu        CPU per request per process vs a JS Worker  cpu.json (scripts/bench-cpu.sh)
#   ops        TOTP/JWT/Argon2id inside workerd            ops.json
#   native     the same operations natively (criterion)   target/criterion/native/*
#   report     REPORT.md + latency.png
#
# Knobs (environment): BENCH_OUT (bench-results), BENCH_VUS (64), BENCH_DURATION (40 s of
# journeys), BENCH_MAX_FLOWS (2000), BENCH_SATURATION_SECS (8), BENCH_USERS (60),
# BENCH_FAST_SAMPLES (400), BENCH_COLD_RUNS (3), BENCH_SIZE_VARIANTS (1: also try wasm-opt
# settings), BENCH_DOCS (docs; empty: do not copy), WASM_OPT_BIN (from the Makefile).
#
# All traffic goes to 127.0.0.1; every server runs in its own process group and is stopped
# when the script exits.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"

OUT="${BENCH_OUT:-bench-results}"
VUS="${BENCH_VUS:-64}"
DURATION="${BENCH_DURATION:-40}"
MAX_FLOWS="${BENCH_MAX_FLOWS:-2000}"
SATURATION_SECS="${BENCH_SATURATION_SECS:-8}"
USERS="${BENCH_USERS:-60}"
FAST_SAMPLES="${BENCH_FAST_SAMPLES:-400}"
COLD_RUNS="${BENCH_COLD_RUNS:-3}"
SIZE_VARIANTS="${BENCH_SIZE_VARIANTS:-1}"
DOCS="${BENCH_DOCS-docs}"
WASM_OPT_BIN="${WASM_OPT_BIN:-}"

CARGO="${CARGO:-cargo}"
CARGO_BIN_DIR="${CARGO_BIN_DIR:-${CARGO_HOME:-$HOME/.cargo}/bin}"
WORKER_BUILD="${WORKER_BUILD:-$CARGO_BIN_DIR/worker-build}"
WRANGLER="$repo/node_modules/.bin/wrangler"
WORKERD="$repo/node_modules/.bin/workerd"
LOADGEN="$repo/target/bench-tools/edge-login-loadgen"
WORK="$repo/target/bench-work"

# wrangler's [build] command runs `make build`: it must be a fresh top-level make. Keep
# wrangler offline, quiet and non-interactive.
unset MAKEFLAGS MFLAGS MAKELEVEL MAKEOVERRIDES CARGO_MAKEFLAGS
export WRANGLER_SEND_METRICS=false WRANGLER_SEND_ERROR_REPORTS=false WRANGLER_HIDE_BANNER=true
export CI=true NO_COLOR=1 FORCE_COLOR=0 WRANGLER_LOG_PATH="$WORK/wrangler-logs"

failed_steps=()
SERVER_PGID=""

log() { printf '\n== bench: %s\n' "$*" >&2; }
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.3f", b - a }'; }

stop_server() {
  [[ -n "$SERVER_PGID" ]] || return 0
  kill -TERM -- "-$SERVER_PGID" 2>/dev/null || true
  for _ in $(seq 1 50); do
    kill -0 -- "-$SERVER_PGID" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL -- "-$SERVER_PGID" 2>/dev/null || true
  wait "$SERVER_PGID" 2>/dev/null || true
  SERVER_PGID=""
}
trap stop_server EXIT
trap 'exit 130' INT TERM

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# run_step NAME CMD...: runs a step; a failure is recorded and the next step goes on.
run_step() {
  local name="$1"
  shift
  local t0
  t0="$(now)"
  log "$name"
  if "$@"; then
    log "$name done in $(elapsed "$t0") s"
  else
    log "$name FAILED (exit $?) after $(elapsed "$t0") s; the report will show n/a"
    failed_steps+=("$name")
  fi
}

mkdir -p "$OUT" "$WORK"
# Fresh results, except profiles.json (`make bench-profiles`, which the report includes).
find "$OUT" -maxdepth 1 -name '*.json' ! -name profiles.json -delete
rm -f "$OUT/REPORT.md" "$OUT/latency.png"

## ------------------------------------------------------------------ prerequisites

prereqs() {
  [[ -f build/index.js && -f build/index_bg.wasm ]] || {
    echo "build/ is missing: run make build (make bench does)" >&2
    return 1
  }
  # The chart's font (Debian's DejaVu Sans), installed like every other tool when missing.
  if [[ -z "${BENCH_FONT:-}" && ! -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ]]; then
    echo "bench: installing fonts-dejavu-core for the chart" >&2
    if command -v apt-get >/dev/null; then
      (apt-get install -y -q fonts-dejavu-core >/dev/null 2>&1 ||
        { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q fonts-dejavu-core >/dev/null; }) ||
        echo "bench: could not install fonts-dejavu-core: the chart will be missing" >&2
    fi
  fi
  # The load generator and report writer (loadgen/), with a quick-to-build profile.
  "$CARGO" build --locked --profile bench-tools -p edge-login-loadgen
}
log "prerequisites (load generator build, font)"
prereqs

# A snapshot of the production build with its own wrangler.toml minus [build]: wrangler dev
# then serves exactly this build for the whole run, and edits to src/ or a `make build`
# elsewhere during the run cannot make it rebuild and restart the Worker mid-request.
SNAP="$WORK/worker"
rm -rf "$SNAP"
mkdir -p "$SNAP"
cp -r build "$SNAP/build"
cp -r public "$SNAP/public"  # the static assets ([assets] directory)
[[ -f .dev.vars ]] && cp .dev.vars "$SNAP/.dev.vars"
awk '/^\[/ { skip = ($0 == "[build]") } !skip' wrangler.toml >"$SNAP/wrangler.toml"

## ------------------------------------------------------------------ env

env_json() {
  python3 scripts/bench_env.py "$OUT/env.json" "$WORKERD" "$WORKER_BUILD" "$WASM_OPT_BIN"
}
run_step env env_json

## ------------------------------------------------------------------ size

size_json() {
  local noopt="$WORK/size/noopt"
  local variants="[]"
  if [[ -n "$WASM_OPT_BIN" || "$SIZE_VARIANTS" == 1 ]]; then
    # The same build without wasm-opt ("before"): cargo is a no-op, wasm-bindgen re-runs.
    rm -rf "$noopt"
    WASM_BINDGEN_BIN="${WASM_BINDGEN_BIN:-$CARGO_BIN_DIR/wasm-bindgen}" \
      ESBUILD_BIN="$(ls "$repo"/node_modules/@esbuild/*/bin/esbuild 2>/dev/null | head -n1)" \
      "$WORKER_BUILD" --release --no-opt --out-dir "$noopt" >"$WORK/size-noopt.log" 2>&1 ||
      { echo "bench: the --no-opt build failed (see $WORK/size-noopt.log)" >&2; noopt=""; }
  fi
  python3 scripts/bench_size.py "$OUT/size.json" build "${noopt}" "${WASM_OPT_BIN}" "$SIZE_VARIANTS" "$WORK/size"
}
run_step size size_json

## ------------------------------------------------------------------ state template

TEMPLATE="$WORK/state-template"
make_template() {
  rm -rf "$TEMPLATE"
  mkdir -p "$TEMPLATE"
  "$WRANGLER" d1 execute DB --local --file schema.sql --persist-to "$TEMPLATE" >"$WORK/schema.log" 2>&1 ||
    { cat "$WORK/schema.log" >&2; return 1; }
}
run_step "schema template" make_template

## ------------------------------------------------------------------ cold start

coldstart() {
  local t0 noop
  # What wrangler's [build] command costs when nothing changed (once to be sure it is a no-op).
  make --no-print-directory build >/dev/null
  t0="$(now)"
  make --no-print-directory build >/dev/null
  noop="$(elapsed "$t0")"
  local compat
  compat="$(awk -F'"' '/^compatibility_date/ { print $2; exit }' wrangler.toml)"
  "$LOADGEN" coldstart --wrangler "$WRANGLER" --wrangler-config "$SNAP/wrangler.toml" \
    --template "$TEMPLATE" --runs "$COLD_RUNS" \
    --workerd "$WORKERD" --bundle "$SNAP/build" --compat-date "$compat" \
    --make-build-noop-s "$noop" --work "$WORK/coldstart" --out "$OUT/coldstart.json" >/dev/null
}
run_step "cold start" coldstart

## ------------------------------------------------------------------ routes + load

start_wrangler() {
  local state="$WORK/state-main"
  rm -rf "$state"
  cp -r "$TEMPLATE" "$state"
  PORT="$(free_port)"
  local inspector
  inspector="$(free_port)"
  # setsid: its own process group (wrangler, workerd, esbuild), stopped as one.
  setsid "$WRANGLER" dev --config "$SNAP/wrangler.toml" --ip 127.0.0.1 --port "$PORT" \
    --inspector-ip 127.0.0.1 --inspector-port "$inspector" \
    --persist-to "$state" --var SERVER_TIMING:1 \
    --log-level warn --show-interactive-dev-session=false \
    </dev/null >"$WORK/wrangler-main.log" 2>&1 &
  SERVER_PGID=$!
  "$LOADGEN" wait --base-url "http://127.0.0.1:$PORT" --timeout 90 ||
    { tail -n 40 "$WORK/wrangler-main.log" >&2; return 1; }
}

routes() {
  # --wrangler/--persist-to/--config: the reset samples plant their codes in local D1.
  "$LOADGEN" routes --base-url "http://127.0.0.1:$PORT" --cpu-pgid "$SERVER_PGID" \
    --users "$USERS" --fast-samples "$FAST_SAMPLES" --out "$OUT/routes.json" \
    --wrangler "$WRANGLER" --persist-to "$WORK/state-main" --config "$SNAP/wrangler.toml" >/dev/null
}

load() {
  "$LOADGEN" load --base-url "http://127.0.0.1:$PORT" --cpu-pgid "$SERVER_PGID" \
    --vus "$VUS" --duration "$DURATION" --max-flows "$MAX_FLOWS" \
    --saturation-secs "$SATURATION_SECS" --out "$OUT/load.json" >/dev/null
}

if run_step "wrangler dev (production build, SERVER_TIMING=1)" start_wrangler; then
  run_step "routes (concurrency 1)" routes
  run_step "load ($VUS virtual users)" load
fi
stop_server

## ------------------------------------------------------------------ CPU per process

# edge-login and the JavaScript baseline (benches/js-baseline/), each under its own
# `wrangler dev`, production vars (no SERVER_TIMING); see scripts/bench-cpu.sh.
cpu_per_process() {
  scripts/bench-cpu.sh "$OUT/cpu.json" "$SNAP/build"
}
run_step "cpu per request, per process (vs the JavaScript baseline)" cpu_per_process

## ------------------------------------------------------------------ WASM vs native

ops() {
  local port
  port="$(free_port)"
  scripts/bench-wasm-ops.sh "$WORK/wasm-ops" "$port" >"$WORK/wasm-ops-build.log" 2>&1 ||
    { tail -n 40 "$WORK/wasm-ops-build.log" >&2; return 1; }
  (cd "$WORK/wasm-ops" && exec setsid "$WORKERD" serve ops.capnp </dev/null >workerd.log 2>&1) &
  SERVER_PGID=$!
  "$LOADGEN" wait --base-url "http://127.0.0.1:$port" --timeout 30 >/dev/null 2>&1 || true
  local rc=0
  "$LOADGEN" ops --base-url "http://127.0.0.1:$port" --cpu-pgid "$SERVER_PGID" \
    --out "$OUT/ops.json" >/dev/null || rc=$?
  stop_server
  return $rc
}
run_step "ops Worker (TOTP/JWT/Argon2id inside workerd)" ops

native() {
  "$CARGO" bench --locked --bench crypto -- --noplot 2>&1 | grep -E '^(native/|Benchmarking native/.*: Analyzing)|time:' >&2 || true
  [[ -f target/criterion/native/argon2id_verify/new/estimates.json ]]
}
run_step "native (criterion)" native

## ------------------------------------------------------------------ report

report() {
  "$LOADGEN" report --dir "$OUT" --criterion-dir target/criterion ${DOCS:+--docs-dir "$DOCS"}
}
run_step report report

if ((${#failed_steps[@]})); then
  log "finished with failed steps: ${failed_steps[*]} (see above; report: $OUT/REPORT.md)"
  exit 1
fi
log "finished: $OUT/REPORT.md, $OUT/latency.png${DOCS:+ (copied to $DOCS/PERFORMANCE.md)}"
