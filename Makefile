# tma-pay: `make dev` runs it locally, `make test` runs every test.
# Every tool is pinned here and installed on first use.

WASM_BINDGEN_VERSION := 0.2.130
WORKER_BUILD_VERSION := 0.8.7
TWIGGY_VERSION := 0.8.0
TOOLS ?= $(HOME)/.cache/tma-pay
CARGO_FUZZ_VERSION := 0.13.2
# cargo-fuzz needs a nightly compiler; this one, so every run builds the same.
NIGHTLY := nightly-2026-05-19
WASM_BINDGEN := $(TOOLS)/wasm-bindgen-$(WASM_BINDGEN_VERSION)/bin/wasm-bindgen
WORKER_BUILD := $(TOOLS)/worker-build-$(WORKER_BUILD_VERSION)/bin/worker-build
TWIGGY := $(TOOLS)/twiggy-$(TWIGGY_VERSION)/bin/twiggy
CARGO_FUZZ := $(TOOLS)/cargo-fuzz-$(CARGO_FUZZ_VERSION)/bin/cargo-fuzz
# Seconds per fuzz target: `make fuzz` runs each this long; `make test` a short smoke run.
FUZZ_SECONDS ?= 60
FUZZ_SMOKE_SECONDS ?= 4
FUZZ_TARGETS := init_data login_widget webhook catalog boc
WRANGLER := ./node_modules/.bin/wrangler
export CLOUDFLARE_CF_FETCH_ENABLED := false
export WRANGLER_SEND_METRICS := false
export WRANGLER_HIDE_BANNER := true

.PHONY: dev bridge build emulator test test-native test-e2e lint tools rust-tools node-tools browser-tools migrate clean
.PHONY: vendor
.PHONY: bench bench-native bench-twiggy bench-floor bench-ab bench-ab-save bench-profile test-bench size
.PHONY: fuzz fuzz-smoke fuzz-run fuzz-tools

## Install what is missing (idempotent).
tools: rust-tools node-tools

rust-tools: $(WASM_BINDGEN) $(WORKER_BUILD)
	@rustup target list --installed | grep -qx wasm32-unknown-unknown || rustup target add wasm32-unknown-unknown

$(WASM_BINDGEN):
	@grep -q 'wasm-bindgen = "=$(WASM_BINDGEN_VERSION)"' Cargo.toml || { echo "Cargo.toml must pin wasm-bindgen = \"=$(WASM_BINDGEN_VERSION)\""; exit 1; }
	cargo install wasm-bindgen-cli --version =$(WASM_BINDGEN_VERSION) --root $(TOOLS)/wasm-bindgen-$(WASM_BINDGEN_VERSION)

$(WORKER_BUILD):
	cargo install worker-build --version =$(WORKER_BUILD_VERSION) --root $(TOOLS)/worker-build-$(WORKER_BUILD_VERSION)

node-tools: node_modules/.installed

node_modules/.installed: package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

## The page's third-party browser code, served from its own origin (the CSP allows no
## other): @tonconnect/ui's bundle and licence, copied from the npm package package.json
## pins. static/vendor/ is not committed; `build` and `dev` make it.
TONCONNECT_UI := static/vendor/tonconnect-ui.min.js
vendor: $(TONCONNECT_UI)

$(TONCONNECT_UI): node_modules/.installed
	@mkdir -p $(@D)
	cp node_modules/@tonconnect/ui/dist/tonconnect-ui.min.js $@
	cp node_modules/@tonconnect/ui/LICENSE $(@D)/tonconnect-ui.LICENSE.txt

## The release worker in build/ (what wrangler dev and wrangler deploy run).
build: rust-tools node-tools vendor
	WASM_BINDGEN_BIN=$(WASM_BINDGEN) ESBUILD_BIN=$(CURDIR)/node_modules/.bin/esbuild $(WORKER_BUILD) --release
	@echo "wasm: $$(wc -c < build/index_bg.wasm) bytes, $$(gzip -9c build/index_bg.wasm | wc -c) gzip"

## Apply the D1 migrations to the local database.
migrate: node-tools
	$(WRANGLER) d1 migrations apply DB --local

.dev.vars:
	cp .dev.vars.example .dev.vars

## The local Telegram emulator.
emulator:
	cargo build -p tma-pay-emulator

## Run locally: the worker on http://127.0.0.1:8787 (local D1 and KV) and the
## Telegram emulator on http://127.0.0.1:8081, the URL to open.
dev: tools .dev.vars migrate emulator vendor
	scripts/dev.sh

## Forward a real bot's updates (getUpdates) to the local worker's webhook.
bridge: node-tools .dev.vars
	node scripts/bridge.mjs $(ARGS)

## Every test: lint, native unit tests, then end-to-end tests against the built
## worker, the emulator and a real headless Chromium.
test: lint test-native test-bench test-e2e size fuzz-smoke

test-native:
	cargo test --workspace

test-e2e: build emulator browser-tools
	node --test --test-concurrency=1 tests/

## The upload against its budget (gzip, as `wrangler deploy --dry-run` reports
## it): a new dependency or serde type that pushes it over fails the tests.
SIZE_BUDGET_KIB := 400
size: build node-tools
	@rm -rf build/.dry-run
	@$(WRANGLER) deploy --dry-run --outdir build/.dry-run > build/.dry-run.log 2>&1 || { cat build/.dry-run.log; exit 1; }
	@awk '/Total Upload/ { found = 1; kib = $$(NF-1); print "upload: " kib " KiB gzip (budget $(SIZE_BUDGET_KIB) KiB)"; \
	  if (kib + 0 > $(SIZE_BUDGET_KIB)) { print "the upload is over its budget: see README, Size"; exit 1 } } \
	  END { if (!found) { print "wrangler printed no size"; exit 1 } }' build/.dry-run.log

## Debian's Chromium for the browser tests (playwright-core drives it), with the
## Noto CJK and colour emoji fonts so Chinese text and emoji render in screenshots.
## Each is installed only when missing (chromium: when no `chromium` is on PATH).
BROWSER_FONTS := fonts-noto-cjk fonts-noto-color-emoji
browser-tools:
	@missing=$$(command -v chromium >/dev/null || echo chromium; \
	  for p in $(BROWSER_FONTS); do \
	    dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'install ok installed' || echo $$p; \
	  done); \
	if [ -n "$$missing" ]; then \
	  export DEBIAN_FRONTEND=noninteractive; apt-get update -q && apt-get install -y -q $$missing; \
	fi

## Fuzzing (fuzz/, its own workspace, nightly): each target for FUZZ_SECONDS.
## New inputs collect in fuzz/corpus/ (not committed); crashes land in fuzz/artifacts/.
fuzz: fuzz-tools
	@$(MAKE) --no-print-directory fuzz-run SECONDS=$(FUZZ_SECONDS)

fuzz-smoke: fuzz-tools
	@$(MAKE) --no-print-directory fuzz-run SECONDS=$(FUZZ_SMOKE_SECONDS)

fuzz-run:
	@mkdir -p fuzz/logs
	@for t in $(FUZZ_TARGETS); do \
	  mkdir -p fuzz/corpus/$$t; \
	  echo "fuzz: $$t for $(SECONDS) s"; \
	  if ! PATH="$(dir $(CARGO_FUZZ)):$$PATH" cargo +$(NIGHTLY) fuzz run --fuzz-dir fuzz $$t fuzz/corpus/$$t fuzz/seeds/$$t \
	      -- -max_total_time=$(SECONDS) -print_final_stats=1 > fuzz/logs/$$t.log 2>&1; then \
	    tail -n 60 fuzz/logs/$$t.log; echo "fuzz: $$t failed (fuzz/logs/$$t.log; the input is in fuzz/artifacts/$$t/)"; exit 1; \
	  fi; \
	  grep -E '^stat::(number_of_executed_units|new_units_added)' fuzz/logs/$$t.log | tr '\n' ' '; echo; \
	done

fuzz-tools: $(CARGO_FUZZ)
	@rustup toolchain list | grep -q '^$(NIGHTLY)' || rustup toolchain install $(NIGHTLY) --profile minimal

$(CARGO_FUZZ):
	cargo install cargo-fuzz --locked --version =$(CARGO_FUZZ_VERSION) --root $(TOOLS)/cargo-fuzz-$(CARGO_FUZZ_VERSION)

## rustfmt and clippy (native and wasm32), then tsc on the Mini App's JSDoc types (tsconfig.json).
lint: rust-tools node-tools
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets -- -D warnings
	cargo clippy --lib --target wasm32-unknown-unknown -- -D warnings
	./node_modules/.bin/tsc -p tsconfig.json

## Benchmarks (not part of `make test`): the release worker beside an empty JS
## worker, an empty Rust worker and the JS alternative under workerd, its size,
## cold start and the native checks beside SHA-256. Writes BENCHMARKS.md; takes
## a few minutes.
bench: build bench-floor bench-twiggy bench-native
	SIZE_BUDGET_KIB=$(SIZE_BUDGET_KIB) node bench/run.mjs

## The bench's Rust floor: workers-rs answering a constant (bench/floor/build).
bench-floor: rust-tools node-tools
	cd bench/floor && CARGO_TARGET_DIR=$(CURDIR)/target/floor WASM_BINDGEN_BIN=$(WASM_BINDGEN) \
		ESBUILD_BIN=$(CURDIR)/node_modules/.bin/esbuild $(WORKER_BUILD) --release

## ns per call of the identity checks and the machine's SHA-256 speed.
bench-native:
	@mkdir -p bench/.out
	BENCH_OUT=bench/.out/native.json cargo bench --bench native

$(TWIGGY):
	cargo install twiggy --version =$(TWIGGY_VERSION) --root $(TOOLS)/twiggy-$(TWIGGY_VERSION) --locked

## What the wasm's bytes are: the release build with names (profile `twiggy`).
bench-twiggy: rust-tools $(TWIGGY)
	cargo build --lib --profile twiggy --target wasm32-unknown-unknown
	$(WASM_BINDGEN) --target web --out-dir bench/.out/twiggy target/wasm32-unknown-unknown/twiggy/tma_pay.wasm
	$(TWIGGY) top -f json -n 1000000 bench/.out/twiggy/tma_pay_bg.wasm > bench/.out/twiggy.json
	$(TWIGGY) top -n 20 bench/.out/twiggy/tma_pay_bg.wasm

## One build against another, alternating rounds on /healthz and /api/verify, or
## AB_ROUTES=healthz,verify,pre_checkout,payment,invoices (bench/ab.mjs): `make bench-ab-save AB_A=DIR`
## before a change, `make bench-ab AB_A=DIR` after.
bench-ab-save: build
	node bench/ab.mjs save $(AB_A)

bench-ab: build
	AB_A=$(AB_A) AB_ROUTES=$(AB_ROUTES) node bench/ab.mjs

## Where the isolate's time goes on one route (bench/profile.mjs): ROUTE=verify|healthz|pre_checkout|payment|invoices,
## AB_A=snapshot, SCRIPT=another worker's entry.
bench-profile: build
	ROUTE=$(ROUTE) AB_A=$(AB_A) SCRIPT=$(SCRIPT) node bench/profile.mjs

## The bench's own test: the report code on a tiny input (seconds, no worker).
test-bench:
	node --test bench/

clean:
	rm -rf build target .wrangler bench/.out
