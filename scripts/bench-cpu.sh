#!/usr/bin/env bash
# CPU per request of each process serving the Worker, beside a minimal JavaScript Worker
# (benches/js-baseline/): `make bench` runs it as its "cpu" step, `make bench-cpu` alone.
#
#   scripts/bench-cpu.sh OUT.json [BUILD_DIR]
#
# Starts two `wrangler dev` instances the same way (loopback, own process group, fresh
# local state, production vars: no SERVER_TIMING): edge-login serving BUILD_DIR (default
# build/, the `make build` output) with wrangler.toml minus its [build] command, and the
# JavaScript baseline. Then `edge-login-loadgen cpu` drives both and reads /proc around
# each load run (see loadgen/src/per_process.rs). Knobs (environment): BENCH_CPU_CONNS (16),
# BENCH_CPU_SECS (6), BENCH_CPU_ROUNDS (3), BENCH_CPU_LOGINS (48), BENCH_CPU_PROFILE (a
# number of seconds: also write a V8 CPU profile of our isolate under /health load),
# BENCH_CPU_ONLY_HEALTH (1: only the /health rounds), BENCH_CPU_CONFIG (another
# wrangler.toml for edge-login, for experiments).
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
OUT="${1:?usage: scripts/bench-cpu.sh OUT.json [BUILD_DIR]}"
BUILD_DIR="${2:-build}"
CARGO="${CARGO:-cargo}"
WRANGLER="$repo/node_modules/.bin/wrangler"
LOADGEN="$repo/target/bench-tools/edge-login-loadgen"
WORK="$repo/target/bench-work/cpu"

unset MAKEFLAGS MFLAGS MAKELEVEL MAKEOVERRIDES CARGO_MAKEFLAGS
export WRANGLER_SEND_METRICS=false WRANGLER_SEND_ERROR_REPORTS=false WRANGLER_HIDE_BANNER=true
export CI=true NO_COLOR=1 FORCE_COLOR=0 WRANGLER_LOG_PATH="$WORK/wrangler-logs"

PGIDS=()
stop_all() {
  for pg in "${PGIDS[@]}"; do
    kill -TERM -- "-$pg" 2>/dev/null || true
  done
  for pg in "${PGIDS[@]}"; do
    for _ in $(seq 1 50); do
      kill -0 -- "-$pg" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL -- "-$pg" 2>/dev/null || true
  done
}
trap stop_all EXIT
trap 'exit 130' INT TERM

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

[[ -x "$LOADGEN" ]] || "$CARGO" build --locked --profile bench-tools -p edge-login-loadgen
[[ -f "$BUILD_DIR/index.js" ]] || { echo "bench-cpu: $BUILD_DIR/index.js is missing (make build)" >&2; exit 1; }

rm -rf "$WORK"
mkdir -p "$WORK/ours" "$WORK/baseline"
# Snapshots: nothing rebuilt elsewhere during the run can restart either Worker.
cp -r "$BUILD_DIR" "$WORK/ours/build"
cp -r public "$WORK/ours/public"
[[ -f .dev.vars ]] && cp .dev.vars "$WORK/ours/.dev.vars"
awk '/^\[/ { skip = ($0 == "[build]") } !skip' "${BENCH_CPU_CONFIG:-wrangler.toml}" >"$WORK/ours/wrangler.toml"
cp benches/js-baseline/* "$WORK/baseline/"
"$WRANGLER" d1 execute DB --local --file schema.sql --persist-to "$WORK/state-ours" \
  --config "$WORK/ours/wrangler.toml" >"$WORK/schema.log" 2>&1 || { cat "$WORK/schema.log" >&2; exit 1; }

# start NAME DIR: wrangler dev in DIR; sets PORT_<NAME>, INSPECTOR_<NAME> and PGID_<NAME>.
start() {
  local name="$1" dir="$2" port inspector
  port="$(free_port)"
  inspector="$(free_port)"
  (cd "$dir" && exec setsid "$WRANGLER" dev --ip 127.0.0.1 --port "$port" \
    --inspector-ip 127.0.0.1 --inspector-port "$inspector" \
    --persist-to "$WORK/state-$name" --log-level warn --show-interactive-dev-session=false \
    </dev/null >"$WORK/wrangler-$name.log" 2>&1) &
  local pg=$!
  PGIDS+=("$pg")
  printf -v "PORT_$name" %s "$port"
  printf -v "INSPECTOR_$name" %s "$inspector"
  printf -v "PGID_$name" %s "$pg"
  "$LOADGEN" wait --base-url "http://127.0.0.1:$port" --timeout 90 >/dev/null ||
    { tail -n 40 "$WORK/wrangler-$name.log" >&2; return 1; }
}
start ours "$WORK/ours"
start baseline "$WORK/baseline"

if [[ -n "${BENCH_CPU_PROFILE:-}" ]]; then
  # A V8 profile of our isolate while /health is driven (a separate, unmeasured run).
  "$LOADGEN" cpu --base-url "http://127.0.0.1:$PORT_ours" --cpu-pgid "$PGID_ours" \
    --conns "${BENCH_CPU_CONNS:-16}" --secs "$((BENCH_CPU_PROFILE + 4))" --rounds 1 --logins 1 \
    --only-health 1 >/dev/null 2>&1 &
  sleep 2
  node scripts/cpu-profile.mjs "$INSPECTOR_ours" "$BENCH_CPU_PROFILE" "${OUT%.json}.cpuprofile" 40 \
    >"${OUT%.json}.profile.txt"
  wait
fi

"$LOADGEN" cpu --base-url "http://127.0.0.1:$PORT_ours" --cpu-pgid "$PGID_ours" \
  --baseline-url "http://127.0.0.1:$PORT_baseline" --baseline-pgid "$PGID_baseline" \
  --conns "${BENCH_CPU_CONNS:-16}" --secs "${BENCH_CPU_SECS:-6}" \
  --rounds "${BENCH_CPU_ROUNDS:-3}" --logins "${BENCH_CPU_LOGINS:-48}" \
  --only-health "${BENCH_CPU_ONLY_HEALTH:-0}" --out "$OUT" >/dev/null
