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

# Load generator: websocket fan-out at 1,000 and 10,000 viewers (see BENCHMARKS.md).
bench: build
	$(GO) test -run '^$$' -bench . -benchtime 3x ./hub/ ./imaging/ ./imaging/product/ ./imaging/uncrop/
	$(GO) run ./cmd/canvasbench -mode fanout -viewers 1000 -streams 100 -rate 10 -duration 20s
	$(GO) run ./cmd/canvasbench -mode fanout -viewers 10000 -rate 10 -duration 30s -settle 5s

fuzz:
	@for t in $$($(GO) test -list 'Fuzz.*' ./... 2>/dev/null | grep '^Fuzz'); do \
	  pkg=$$(grep -rl "func $$t(" --include='*_test.go' . | head -1 | xargs dirname); \
	  echo "== $$pkg $$t"; $(GO) test -run '^$$' -fuzz "^$$t$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; done
