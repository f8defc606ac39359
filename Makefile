# gameday: `make help` lists the targets.
SHELL := /usr/bin/env bash
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
GO_LDFLAGS := -X gameday.dev/gameday/internal/cmd/version.Version=$(VERSION)
E2E_TIMEOUT ?= 60m
# `make e2e` is the fast lane .ci/run runs on every change; the specs labelled
# slow repeat on a second topology or backend what the fast lane shows on the
# first, or run a scenario over again for one more claim
# (test/e2e/e2e_suite_test.go): `make e2e-all` runs them too.
E2E_LABELS ?= kind && !slow

.PHONY: help build dist test e2e e2e-all demo tour lint setup node-image clean clean-cache

# The platforms `make dist` builds gameday for; its nodes are linux on the same architecture.
DIST_PLATFORMS := linux/amd64 linux/arm64 darwin/amd64 darwin/arm64

help: ## list the targets
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

build: ## build bin/gameday and bin/mockapp (static, for linux nodes of this machine's architecture: gameday images it without a registry)
	CGO_ENABLED=0 GOOS=linux go build -trimpath -ldflags '-s -w' -o bin/mockapp ./fixtures/cmd/mockapp
	CGO_ENABLED=0 go build -trimpath -ldflags '$(GO_LDFLAGS)' -o bin/gameday ./cmd/gameday

# The packages that start goroutines run their tests under the race detector
# (it needs cgo, so a C compiler: without one they run without it, and say so).
RACE_PKGS := ./cluster/... ./cmd/... ./fixtures/... ./internal/cli/... ./live/... ./scenarios/...
RACE := $(shell command -v $$(go env CC) >/dev/null 2>&1 && echo -race)

dist: ## cross-compile gameday for linux and darwin on amd64 and arm64: dist/gameday-<os>-<arch>/{gameday,mockapp-linux-<arch>}
	@set -e; for p in $(DIST_PLATFORMS); do os=$${p%/*}; arch=$${p#*/}; d=dist/gameday-$$os-$$arch; mkdir -p $$d; \
		echo "$$d"; \
		CGO_ENABLED=0 GOOS=$$os GOARCH=$$arch go build -trimpath -ldflags '$(GO_LDFLAGS)' -o $$d/gameday ./cmd/gameday; \
		CGO_ENABLED=0 GOOS=linux GOARCH=$$arch go build -trimpath -ldflags '-s -w' -o $$d/mockapp-linux-$$arch ./fixtures/cmd/mockapp; \
	done

test: ## unit tests: fast, no Docker, no cluster (the race detector on the packages with goroutines)
	go test $$(go list ./... | grep -v -E '^gameday.dev/gameday/(cluster|cmd|fixtures|internal/cli|live|scenarios)(/|$$)')
	$(if $(RACE),,@echo "no C compiler ($$(go env CC)): these run without the race detector" >&2)
	go test $(RACE) $(RACE_PKGS)

setup: build ## Docker ready for kind, and a node image (pulled, or built offline and cached)
	hack/setup-docker.sh
	hack/ensure-node-image.sh

e2e: setup ## the fast lane of the end-to-end tests on real kind clusters (one at a time), as .ci/run runs it; installs chromium for the report checks
	hack/ensure-chromium.sh
	go test -tags e2e ./test/e2e -count=1 -timeout $(E2E_TIMEOUT) -v -args \
		-ginkgo.label-filter='$(E2E_LABELS)' -ginkgo.v -gameday.bin=$(CURDIR)/bin/gameday

e2e-all: ## the whole e2e suite, the slow lane included (~42 min here): before a release, or after a change to what the slow specs cover
	$(MAKE) e2e E2E_LABELS=kind

demo: setup ## replay the seed incident on both topologies, score and compare them (~8 min)
	hack/demo.sh

tour: setup ## a guided walk per topology: fixtures, the bad release, rollback, a lost node
	hack/tour.sh

load-live: ## the live page's load test: 50 viewers watch a whole recorded run (figures in _artifacts/live-load.json)
	go test -tags load ./live -run TestLoad -count=1 -v -timeout 40m $(if $(LIVE_RUN),-args -live.run=$(abspath $(LIVE_RUN)))

lint: ## gofmt and go vet, e2e code included
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt wants to change:"; echo "$$out"; exit 1; fi
	go vet ./...
	go vet -tags e2e ./test/e2e

node-image: ## build the offline node image (cached by content; ~15 min cold)
	hack/node-image/build.sh

clean: ## delete gameday's clusters, bin/, dangling images and volumes
	-@if [ -x bin/gameday ] && docker info >/dev/null 2>&1; then \
		for c in $$(bin/gameday cluster list -o json | jq -r '.[].name'); do bin/gameday cluster down --name "$$c"; done; fi
	rm -rf bin dist
	-docker image prune -f >/dev/null 2>&1
	-docker volume prune -f >/dev/null 2>&1

clean-cache: clean ## also remove the offline node image and its build cache
	hack/clean-node-images.sh
	rm -rf $${GAMEDAY_CACHE:-$$HOME/.cache/gameday}
