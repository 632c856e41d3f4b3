# webrepl-kernel: `make demo` to try it, `make notebook` for Jupyter in the browser, `make test` to
# check everything, `make bench` for figures.
GO      ?= go
BIN     := bin/webrepl-kernel
# The pinned Python environment (tests/requirements.txt: JupyterLab 4, Notebook 7, jupyter_client
# 8, jupyter_kernel_test 0.7 …) that every Python-driven test, `make notebook` and `make bench`
# use; `make pyenv` (scripts/pyenv.sh) makes .venv/ and reuses it while the pins are unchanged.
# Go tests find it through WEBREPL_PYTHON (internal/pyenv).
PYTHON  := $(CURDIR)/.venv/bin/python
# `webrepl-kernel version` names the commit (the toolchain's own VCS stamp is missing with
# GOFLAGS=-buildvcs=false or in a git worktree).
COMMIT  := $(shell git describe --always --dirty --abbrev=40 2>/dev/null)
export WEBREPL_PYTHON := $(PYTHON)
# The simulator uses the npm package installed here by `npm ci` (pinned by the lockfile).
export WEBREPL_SIM_MODULES := $(CURDIR)/sim/board/node_modules

# The Jupyter, notebook and browser tests (and realmp's Jupyter run) use COVER_BIN, a -cover
# build of the binary (Go's integration coverage): every process of it writes its counters into
# COVER_DIR/integration (ITEST_ENV) when it exits. `make coverage` adds the unit tests' counters
# (COVER_DIR/unit) and prints per-package coverage of both together.
COVER_BIN := bin/cover/webrepl-kernel
COVER_DIR := $(CURDIR)/bin/coverage
ITEST_ENV := GOCOVERDIR=$(COVER_DIR)/integration

.PHONY: all build build-cover deps sim-deps pyenv hub-deps hub test-hub test test-cross test-wine test-realmp test-go test-node test-fuzz fuzz test-jupyter test-notebooks test-browser coverage coverage-report bench demo notebook dist clean

all: build

build:
	$(GO) build -ldflags "-X main.commit=$(COMMIT)" -o $(BIN) ./cmd/webrepl-kernel

build-cover:
	$(GO) build -ldflags "-X main.commit=$(COMMIT)" -cover -covermode=set -coverpkg=./... -o $(COVER_BIN) ./cmd/webrepl-kernel
	@mkdir -p $(COVER_DIR)/integration

deps:
	./scripts/install-deps.sh all
	$(MAKE) sim-deps pyenv

pyenv:
	@./scripts/pyenv.sh >/dev/null

# JupyterHub's environment for examples/jupyterhub: its pinned requirements.txt into
# examples/jupyterhub/.venv/ and configurable-http-proxy from its package-lock.json.
hub-deps:
	@./scripts/hubenv.sh >/dev/null

sim-deps: sim/board/node_modules/.package-lock.json

sim/board/node_modules/.package-lock.json: sim/board/package.json sim/board/package-lock.json
	cd sim/board && npm ci --no-audit --no-fund --loglevel=error

test: deps build
	rm -rf $(COVER_DIR)
	$(GO) vet ./...
	$(MAKE) test-cross
	$(MAKE) test-node
	$(MAKE) test-go
	$(MAKE) test-realmp
	$(MAKE) test-fuzz
	$(MAKE) test-jupyter
	$(MAKE) test-wine
	$(MAKE) test-notebooks
	$(MAKE) test-browser
	$(MAKE) test-hub

# The binary compiles and links for the six systems `make dist` ships, and every package, its
# tests included, type-checks (vet) on each of their operating systems: OS-specific code lives in
# build-tagged files, and none is specific to an architecture (vet on linux is `make test`'s own).
CROSS_TARGETS := linux/amd64 linux/arm64 darwin/amd64 darwin/arm64 windows/amd64 windows/arm64
CROSS_VET     := darwin/arm64 windows/amd64
test-cross:
	@set -e; for t in $(CROSS_VET); do echo "vet $$t"; GOOS=$${t%/*} GOARCH=$${t#*/} $(GO) vet ./...; done; \
	for t in $(CROSS_TARGETS); do echo "build $$t"; \
		GOOS=$${t%/*} GOARCH=$${t#*/} $(GO) build -o /dev/null ./cmd/webrepl-kernel; done

# The Windows build under Debian's Wine against a simulated board (exec, put/get, run,
# install, cells and an interrupt through jupyter_client); one line when wine64 or
# mingw-w64 is missing.
test-wine: build sim-deps
	./tests/wine/run.sh $(BIN)

# The simulated board's Node side on its own (framing, raw-paste, input, files).
test-node: sim-deps
	node --test sim/board/test/*.test.mjs

# Real MicroPython (../shared/realmp, or $$WEBREPL_REALMP): the WebREPL client's
# conformance tests against the firmware's own WebREPL code, then the kernel's
# jupyter_kernel_test subclass against it; one line when absent.
export WEBREPL_REALMP ?= $(abspath $(CURDIR)/../shared/realmp)
test-realmp: build-cover pyenv
	@if [ -x "$(WEBREPL_REALMP)/start.sh" ]; then \
		$(GO) test -count=1 -timeout 10m -run '^TestRealmp' $(GO_COVER) ./webrepl $(GO_COVER_ARGS) && \
		$(ITEST_ENV) ./tests/jupyter/run.sh $(COVER_BIN) --realmp "$(WEBREPL_REALMP)"; \
	else echo "realmp tests skipped (WebREPL conformance, jupyter_kernel_test): no real MicroPython board at $(WEBREPL_REALMP)"; fi

# The longest package test first: go test schedules packages in the order given, two at a time
# on two cores, and webrepl's run (about 2.5 minutes) otherwise starts only after the others.
GO_TEST_FIRST := ./webrepl ./sim ./cmd/webrepl-kernel ./kernel
test-go: pyenv
	$(GO) test -count=1 -timeout 14m -skip '^TestRealmp' $(GO_COVER) $(GO_TEST_FIRST) ./... $(GO_COVER_ARGS)

# Each fuzz target runs a fixed number of inputs in `make test`: a count budget, not a
# wall-clock one, because Go 1.26's fuzz coordinator can fail at its own -fuzztime deadline
# with "context deadline exceeded" and no failing input (golang/go#75804). The seed corpora
# also run as plain tests in test-go. `make fuzz` is the time-boxed run, for by hand:
# FUZZTIME=5m make fuzz (there, a bare deadline error is the Go bug, not a finding).
FUZZ_TARGETS := jupyter:FuzzDecodeMessage webrepl:FuzzRawReplParser webrepl:FuzzMarkedReplyParser \
	webrepl:FuzzFrameDemux kernel:FuzzInspectorOutput internal/boardpy:FuzzStr
FUZZCOUNT ?= 30000x
FUZZTIME  ?= 1m
test-fuzz:
	@set -e; for t in $(FUZZ_TARGETS); do \
		echo "fuzz $${t#*:} ($(FUZZCOUNT))"; \
		$(GO) test -run '^$$' -fuzz "^$${t#*:}\$$" -fuzztime $(FUZZCOUNT) ./$${t%%:*}; done
fuzz:
	@set -e; for t in $(FUZZ_TARGETS); do \
		$(GO) test -run '^$$' -fuzz "^$${t#*:}\$$" -fuzztime $(FUZZTIME) ./$${t%%:*}; done

# Real Jupyter clients (the pinned jupyter_client, jupyter_kernel_test, jupyter console) against
# the installed kernel and a simulated board.
test-jupyter: build-cover pyenv
	$(ITEST_ENV) ./tests/jupyter/run.sh $(COVER_BIN)

# The lesson notebooks run end to end on a simulated ESP32: with the pinned nbclient, and with
# `run --check`, which also compares every output with the stored one.
test-notebooks: build-cover pyenv
	$(ITEST_ENV) scripts/with-board.sh $(COVER_BIN) $(PYTHON) scripts/run-notebook.py --quiet notebooks/*.ipynb
	$(ITEST_ENV) $(COVER_BIN) run --sim --check notebooks/*.ipynb

# Debian's Chromium, driven by puppeteer-core (pinned in tests/browser/package-lock.json), in
# JupyterLab 4 and in Notebook 7 from the pinned venv (make pyenv), each with a simulated board,
# live plots and widgets in both (live.test.mjs), and through make hub's JupyterHub
# (hub.test.mjs: login, lesson 1, Run All), two files at a time; the log and a screenshot per
# step go to tests/browser/out/.
BROWSER_OUT := tests/browser/out
# Test files run two at a time (each has its own server, board and browser, on free ports).
BROWSER_CONCURRENCY ?= 2
test-browser: build-cover sim-deps pyenv hub-deps tests/browser/node_modules/.package-lock.json
	@mkdir -p $(BROWSER_OUT)
	@cd tests/browser && $(ITEST_ENV) BIN=$(CURDIR)/$(COVER_BIN) OUT_DIR=$(CURDIR)/$(BROWSER_OUT) PYTHON=$(PYTHON) \
		node --test --test-concurrency=$(BROWSER_CONCURRENCY) --test-timeout=900000 jupyterlab.test.mjs notebook7.test.mjs live.test.mjs hub.test.mjs \
		>out/browser-test.log 2>&1; status=$$?; \
		cat out/browser-test.log; echo "browser test log: $(BROWSER_OUT)/browser-test.log"; exit $$status

tests/browser/node_modules/.package-lock.json: tests/browser/package.json tests/browser/package-lock.json
	cd tests/browser && npm ci --no-audit --no-fund --loglevel=error

# Unit tests with coverage of every package (-coverpkg=./..., so a package's lines count
# whichever package's tests ran them), then the integration runs with COVER_BIN; prints each
# package's coverage by the unit tests, by the integration runs and by both together
# (go tool covdata), and writes bin/coverage/coverage.out for `go tool cover -html`. Every run
# goes ahead when one fails; the report then names the failed ones and the target fails.
COVER_FLAGS := -cover -covermode=set -coverpkg=./...
coverage: deps build
	rm -rf $(COVER_DIR)
	mkdir -p $(COVER_DIR)/unit $(COVER_DIR)/integration
	@failed=""; \
	$(MAKE) test-go GO_COVER="$(COVER_FLAGS)" GO_COVER_ARGS="-args -test.gocoverdir=$(COVER_DIR)/unit" || failed="$$failed test-go"; \
	$(MAKE) test-realmp GO_COVER="$(COVER_FLAGS)" GO_COVER_ARGS="-args -test.gocoverdir=$(COVER_DIR)/unit" || failed="$$failed test-realmp"; \
	$(MAKE) test-jupyter || failed="$$failed test-jupyter"; \
	$(MAKE) test-notebooks || failed="$$failed test-notebooks"; \
	$(MAKE) test-browser || failed="$$failed test-browser"; \
	$(MAKE) --no-print-directory coverage-report || exit 1; \
	if [ -n "$$failed" ]; then echo "coverage: these runs failed, so the figures above miss part of them:$$failed" >&2; exit 1; fi

# The report alone, from the data the last runs left in bin/coverage.
coverage-report:
	GO=$(GO) scripts/coverage-report.sh $(COVER_DIR)

# One run: the kernel (through jupyter_client), paced mode and the seed's method on every
# simulated link and on ../shared/realmp, the kernel against mpremote's method over USB serial
# (bench/serial.go; alone: go run ./bench -only serial -update), then 30 learners on JupyterHub (bench/hub.go; alone:
# go run ./bench -only hub -learners N); writes bench/results.json and README's tables.
bench: deps build hub-deps
	$(GO) run ./bench -out bench/results.json -readme README.md -kernel $(BIN) -realmp $(WEBREPL_REALMP) -python $(PYTHON)

# The lesson set on a simulated ESP32 through `run` (no Python needed): every cell with its output.
demo: build
	./scripts/install-deps.sh sim
	$(MAKE) sim-deps
	$(BIN) run --sim -v notebooks/*.ipynb

# JupyterLab 4 (NOTEBOOK_UI=notebook: Notebook 7) from .venv/ on loopback, over the lessons, with
# the kernel installed into .venv/ (--sys-prefix) for a simulated board; prints the URL to open.
# Ctrl-C stops all of it.
NOTEBOOK_UI ?= lab
notebook: build
	./scripts/install-deps.sh notebook
	$(MAKE) sim-deps pyenv
	NOTEBOOK_UI=$(NOTEBOOK_UI) ./scripts/notebook.sh $(BIN)

# A workshop on this machine, for a try: JupyterHub 6 on 127.0.0.1 (examples/jupyterhub), HUB_LEARNERS
# learners (default 3) each with a simulated board from one board map; prints the URL, the
# learners and their password. Ctrl-C stops all of it.
hub: build
	./scripts/install-deps.sh notebook
	$(MAKE) sim-deps hub-deps
	./scripts/hub.sh $(BIN)

# The hub end to end, small: 3 learners logged in through the REST API run lesson 1 at once over
# the kernel WebSocket, every output exact (bench's hub section; its figures are not asserted).
# test-browser's hub.test.mjs logs one learner in with Chromium and runs a lesson.
test-hub: build sim-deps hub-deps
	$(GO) run ./bench -only hub -learners 3 -out $(CURDIR)/bin/hub-check.json -readme "" -kernel $(BIN)

# One archive per OS/arch in dist/ (zip for Windows, tar.gz otherwise) with SHA256SUMS.
dist:
	./scripts/dist.sh dist

clean:
	rm -rf bin dist
