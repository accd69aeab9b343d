# Overcast — make help lists the targets.
GO ?= go
PKGS := ./...
FUZZTIME ?= 10s

.PHONY: help run build test test-deps unit vet lint fuzz bench models check-models clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-14s %s\n", $$1, $$2}'

run: ## run Overcast on 127.0.0.1:4566 with state under ~/.local/share/overcast
	$(GO) run ./cmd/overcast

build: ## build bin/overcast
	$(GO) build -o bin/overcast ./cmd/overcast

test: test-deps vet unit ## install test clients if missing, then vet and run every test

test-deps: ## install the AWS CLI v2 and boto3 from Debian when missing (root only)
	./scripts/test-deps.sh

vet: ## go vet and gofmt
	$(GO) vet $(PKGS)
	@test -z "$$(gofmt -l cmd internal)" || (gofmt -l cmd internal; echo "gofmt needed"; exit 1)

unit: ## run the tests, with the race detector on the concurrent packages
	$(GO) test -count=1 $(PKGS)
	$(GO) test -count=1 -race ./internal/storage/... ./internal/controller/... ./internal/runtime/... ./internal/clock/... ./internal/gateway/... ./internal/policy/... ./internal/service/... ./internal/server/...

fuzz: ## run every fuzz target for FUZZTIME each
	./scripts/fuzz-all.sh $(FUZZTIME)

bench: ## compare Overcast with installed peers and the machine's floor
	$(GO) run ./cmd/overcast-bench

models: ## regenerate the committed AWS models and protocol tests
	$(GO) run ./cmd/modelgen

check-models: models ## fail if the committed models differ from a regeneration
	git diff --exit-code -- internal/protocol/model/data internal/protocol/testdata

clean: ## remove build output
	rm -rf bin
