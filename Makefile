# cocogen: the two commands a newcomer needs are `make demo` and `make test`.
GO       ?= go
DEMO     ?= fixtures/azure-simple/pattern.yaml
DEMO_OUT ?= out/azure-simple
PKGS     := ./...

.PHONY: all build demo demo-peerpodd test test-race vet fmt golden check-golden e2e bench bench-cli regorus cover clean

all: build

build:
	CGO_ENABLED=0 $(GO) build -trimpath -o bin/cocogen ./cmd/cocogen
	CGO_ENABLED=0 $(GO) build -trimpath -o bin/peerpodd ./cmd/peerpodd

## demo: render the bundled Azure example into $(DEMO_OUT) and print its tree.
demo: build
	./bin/cocogen render -f $(DEMO) -o $(DEMO_OUT)
	@cd $(DEMO_OUT) && find . -type f | sort | sed 's|^\./||'
	@echo
	@echo "Rendered $(DEMO) into $(DEMO_OUT)/ (stream form: ./bin/cocogen render -f $(DEMO))"

## demo-peerpodd: run the peer-pod daemon with the local provider and play the kata shim against it.
demo-peerpodd: build
	$(GO) run ./tools/peerpodd-demo bin/peerpodd

## test: formatting, vet, and every test (race detector on).
test: fmt vet
	$(GO) test -race -count=1 $(PKGS)

vet:
	$(GO) vet $(PKGS)

fmt:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

## golden: regenerate every golden file (review the diff before committing).
golden:
	$(GO) test ./pkg/render ./cmd/cocogen ./pkg/krmfn ./pkg/deploy/peerpodd -run 'TestGolden|TestInvalidPatterns|TestKustomizeBuild' -update

## check-golden: fail when the committed golden files are stale.
check-golden: golden
	git diff --exit-code -- fixtures deploy/peerpodd

## e2e: cocogen's plugin in the real argocd-cmp-server (first build: minutes).
e2e:
	cd e2e/argocd-cmp && $(GO) test -count=1 ./...

## regorus: the kata agent's policy engine as a test harness (e2e/regorus;
## the policies tests compare its decisions with OPA's).
regorus:
	cargo build --release --locked --manifest-path e2e/regorus/Cargo.toml

## bench-cli: the binary as a whole process (median of 15 runs per command).
bench-cli: build
	$(GO) run ./tools/benchcli -bin bin/cocogen -runs 15

## bench: every benchmark, with allocations.
bench:
	$(GO) test -run '^$$' -bench . -benchmem $(PKGS)

clean:
	rm -rf bin out
