# Switchyard. "make run" builds and starts it; "make test" runs every test.
GO      ?= go
BIN     ?= bin/switchyard
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT  ?= $(shell git rev-parse HEAD 2>/dev/null)
DATE    ?= $(shell date -u +%Y-%m-%dT%H:%M:%SZ)
LDFLAGS := -s -w -X main.version=$(VERSION) -X main.commit=$(COMMIT) -X main.date=$(DATE)

.PHONY: help run build web web-test release test fuzz vet fmt-check generate check-generated bench bench-gateway clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

run: build ## build (web UI included when web/ exists) and start on the embedded SQLite default
	./$(BIN) serve

build: web ## build the binary into bin/
	CGO_ENABLED=0 $(GO) build -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/switchyard

# npm ci runs again only when the lock file changes.
web/node_modules/.installed: web/package.json web/package-lock.json
	cd web && npm ci
	@touch $@

web: web/node_modules/.installed ## build the dashboard into web/dist (embedded by go build)
	cd web && npm run build

web-test: web/node_modules/.installed ## the dashboard's component tests (Vitest)
	cd web && npm test

test: web fmt-check vet check-generated web-test ## run every test (PostgreSQL ones when SWITCHYARD_TEST_POSTGRES_URL is set; the browser ones need /usr/bin/chromium), then the fuzzers briefly
	$(GO) test -count=1 ./...
	$(MAKE) fuzz

FUZZTIME ?= 10s
fuzz: ## run each parser fuzzer for FUZZTIME (default 10s)
	$(GO) test -run '^$$' -fuzz '^FuzzDecode$$' -fuzztime $(FUZZTIME) ./transfer
	@# Its seeds are whole LiteLLM configs: minimizing each new input for the default 60 s
	@# would spend the whole run there.
	$(GO) test -run '^$$' -fuzz '^FuzzLiteLLMConfig$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 1s ./legacy

vet: ## go vet
	$(GO) vet ./...

fmt-check: ## fail when gofmt would change a file
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

generate: web/node_modules/.installed ## regenerate generated code: the API server and dashboard types, the settings reference, and the catalog data when ../shared/reference is present
	$(GO) generate ./api ./config
	cd web && npm run --silent generate
	@if [ -f ../shared/reference/models-dev-providers.json ]; then $(GO) generate ./catalog; \
	else echo "generate: ../shared/reference not present; catalog data left as it is"; fi

check-generated: generate ## fail when generated files differ from what is committed
	@git diff --exit-code -- httpapi/apigen catalog/templates docs/configuration.md web/src/api/schema.d.ts >/dev/null && \
		test -z "$$(git status --porcelain -- docs/configuration.md)" || \
		{ git status --short -- httpapi/apigen catalog/templates docs/configuration.md web/src/api/schema.d.ts; echo "generated files are stale: run make generate and commit"; exit 1; }

bench: ## store benchmarks (see docs/benchmarks.md)
	$(GO) test -run '^$$' -bench . -benchmem ./sqlstore/

# bench-gateway settings: the run's name (its results go to bench/results/<name>),
# CPU pinning, and the harness's knobs (see bench/run.sh).
BENCH_PHASE ?= $(shell date -u +%Y%m%d-%H%M%S)
BENCH_PIN   ?= 1
BENCH_ENV   ?= ROUNDS=7 SERIAL_N=2000 WARMUP=300

bench-gateway: ## gateway overhead against a bare proxy, then the gateway's micro-benchmarks (root: runs in a loopback-only namespace; about 7 min)
	cd bench && $(GO) build -o bin/ ./cmd/...
	CGO_ENABLED=0 $(GO) build -o bench/bin/switchyard ./cmd/switchyard
	cd bench && env $(BENCH_ENV) PIN=$(BENCH_PIN) MODEL=mock/gpt-4o-mini GW_CMD='bash switchyard.sh' \
		GW_KEY_FILE=$$PWD/results/$(BENCH_PHASE).key unshare -n bash run.sh $(BENCH_PHASE)
	python3 bench/summarize.py bench/results/$(BENCH_PHASE)
	$(GO) test -run '^$$' -bench . -benchmem ./gateway/

PLATFORMS ?= linux/amd64 linux/arm64 darwin/arm64
release: web ## static binaries for PLATFORMS into dist/, with version information and SHA256SUMS
	@mkdir -p dist
	@for p in $(PLATFORMS); do \
		os=$${p%/*}; arch=$${p#*/}; out=dist/switchyard-$(VERSION)-$$os-$$arch; \
		echo "build $$out"; \
		CGO_ENABLED=0 GOOS=$$os GOARCH=$$arch $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $$out ./cmd/switchyard || exit 1; \
	done
	cd dist && sha256sum switchyard-$(VERSION)-* > SHA256SUMS

clean: ## remove build output
	rm -rf bin dist web/node_modules web/test-results
	find web/dist -mindepth 1 ! -name .gitkeep -delete 2>/dev/null || true
