# canvasd — see README.md. `make run` serves on :8080 with data in ./data;
# `make test` runs every test (browser tests included).
GO            ?= go
BIN           ?= bin/canvasd
STATICCHECK   ?= honnef.co/go/tools/cmd/staticcheck@v0.6.1
TEST_TIMEOUT  ?= 25m
FUZZTIME      ?= 30s

.PHONY: run build test lint bench fuzz tidy-check

run: build
	$(BIN) serve

build:
	$(GO) build -o $(BIN) ./cmd/canvasd

test:
	$(GO) test -race -count=1 -timeout $(TEST_TIMEOUT) ./...

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...

tidy-check:
	cp go.mod /tmp/go.mod.bak; cp go.sum /tmp/go.sum.bak
	$(GO) mod tidy
	@git diff --exit-code go.mod go.sum || (echo "go mod tidy changed go.mod/go.sum"; exit 1)
