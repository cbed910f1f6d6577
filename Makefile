# Synapse — run `make` for the list of targets.
SHELL := /bin/bash
GO ?= go
BIN := bin/synapse
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X github.com/synapsehq/synapse/cmd/cli.Version=$(VERSION)
# Packages run in parallel up to the core count; tests inside a package use t.Parallel.
TEST_FLAGS ?= -count=1 -timeout 20m
# disgo reads every gateway payload through encoding/json's Decoder before
# goccy decodes it; Go's jsonv2 implementation of that Decoder scans the
# payload in about half the CPU (capture load test: 46-50 -> 41-43 us of
# process CPU per event). The v1 API keeps its behaviour; everything is
# built and tested with it. A plain `go build` works too, just slower.
GOEXPERIMENT ?= jsonv2
export GOEXPERIMENT

# stripe-mock (Stripe's API mock) serves the billing tests: installed
# once under .data/bin, built without this repository's GOEXPERIMENT.
STRIPE_MOCK_VERSION := v0.203.0
STRIPE_MOCK := .data/bin/stripe-mock
export SYNAPSE_STRIPE_MOCK := $(CURDIR)/$(STRIPE_MOCK)

.DEFAULT_GOAL := help
.PHONY: help build web web-size test test-browser bench lint demo loadtest services readme

help: ## Show this help
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  \033[36m%-13s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

build: web ## Build bin/synapse (with the dashboard embedded)
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/synapse

# The dashboard (web/): npm ci when the lockfile changes, vite build when a
# source changes; the output, web/build/app, is embedded by the Go package web.
WEB_SRC := $(shell find web/src web/static -type f 2>/dev/null) web/package.json web/svelte.config.js web/vite.config.ts web/tsconfig.json
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD := 1

web: web/build/app/index.html ## Build the dashboard into web/build/app (SvelteKit, embedded by make build)

web/node_modules/.installed: web/package-lock.json
	cd web && npm ci --no-audit --no-fund
	@touch $@

web/build/app/index.html: web/node_modules/.installed $(WEB_SRC)
	cd web && npm run build

web-size: web ## Check the dashboard's first load stays within 300 KB of gzipped JavaScript
	cd web && npm run size

services: ## Make sure PostgreSQL and Redis are up (installs or starts them when needed)
	@bash infra/dev/services.sh

$(STRIPE_MOCK):
	GOEXPERIMENT= GOBIN=$(CURDIR)/.data/bin $(GO) install github.com/stripe/stripe-mock@$(STRIPE_MOCK_VERSION)

test: services build $(STRIPE_MOCK) ## Run every test against real PostgreSQL and Redis, then the dashboard in a browser
	$(GO) vet ./...
	$(GO) test $(TEST_FLAGS) ./...
	@$(MAKE) --no-print-directory test-browser

test-browser: services build ## Dashboard tests in headless Chromium against bin/synapse demo (screenshots: artifacts/screenshots)
	cd web && npm run size && npx playwright test

bench: services ## Run the Go benchmarks
	$(GO) test -run '^$$' -bench . -benchmem -count=1 ./...

lint: ## go vet and staticcheck
	$(GO) vet ./...
	$(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...

demo: services build ## Run discordsim with a synthetic community and every Synapse role
	./$(BIN) demo

loadtest: services build ## Capture load test (PROFILE=roadmap-500|max|rate|chaos|naive)
	./$(BIN) loadtest --profile $(or $(PROFILE),roadmap-500)

readme: build ## Regenerate the README's configuration reference
	@./$(BIN) config-reference > .config-reference.md
	@python3 -c 'import re,sys; r=open("README.md").read(); n=open(".config-reference.md").read(); b="<!-- config-reference:begin -->\n"; e="<!-- config-reference:end -->"; i=r.index(b)+len(b); j=r.index(e); open("README.md","w").write(r[:i]+n+r[j:])'
	@rm -f .config-reference.md
