# signseg: `make demo` and `make test` do all the set-up they need.
GO        ?= go
BIN       := bin/signseg
ORT_LIB   := $(CURDIR)/lib/libonnxruntime.so.1
VERSION   := $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS   := -X main.version=$(VERSION)

.PHONY: all build setup test test-race demo vet fmt-check bench clean

all: build

# setup fetches the ONNX Runtime library into lib/ and installs ffmpeg
# (and xmllint for the tests) from Debian when they are missing.
setup:
	@scripts/setup.sh

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/signseg

# Every test runs: SIGNSEG_REQUIRE_NATIVE=1 turns a missing native tool into a failure.
# go test's 10-minute limit per package is too tight for cmd/signseg on a
# busy 2-core machine (it ran out there once); CI allows 90 minutes in all.
GOTEST := $(GO) test -count=1 -timeout 40m
test:
	@scripts/setup.sh with-xmllint
	SIGNSEG_REQUIRE_NATIVE=1 SIGNSEG_ORT_LIB=$(ORT_LIB) $(GOTEST) ./...

# Data races in the packages that run goroutines: decoding pipelines,
# inference (keypoint trackers included), ONNX Runtime set-up, the ELAN
# recognizer; the keypoint pipeline's two stages; eaf's saving (to
# the rules: it runs no goroutines of its own); of cmd/signseg the tests of
# parallel batches, Ctrl-C and the recognizer (the others exercise no
# concurrency and are slow under -race).
RACE_PKGS := ./media/ ./segment/ ./plugin/... ./internal/ortenv/ ./internal/atomicfile/
RACE_CMD  := TestRunFilesStopsOnCancel|TestFinishInterrupted|TestBatchParallelInProcess|TestInterrupt|TestELANRecognizer|TestELANStop|TestSegmentCommand
test-race:
	@scripts/setup.sh with-xmllint
	SIGNSEG_REQUIRE_NATIVE=1 SIGNSEG_ORT_LIB=$(ORT_LIB) $(GOTEST) -race $(RACE_PKGS)
	SIGNSEG_REQUIRE_NATIVE=1 SIGNSEG_ORT_LIB=$(ORT_LIB) $(GOTEST) -race -run '^TestSave' ./eaf/
	SIGNSEG_REQUIRE_NATIVE=1 SIGNSEG_ORT_LIB=$(ORT_LIB) $(GOTEST) -race -run '^(TestPipelineSameKeypoints|TestNoPerson)$$' ./pose/
	SIGNSEG_REQUIRE_NATIVE=1 SIGNSEG_ORT_LIB=$(ORT_LIB) $(GOTEST) -race -run '^($(RACE_CMD))$$' ./cmd/signseg/

demo: setup build
	@scripts/demo.sh

vet:
	$(GO) vet ./...

fmt-check:
	@out=$$(gofmt -l .); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

bench: setup
	SIGNSEG_ORT_LIB=$(ORT_LIB) $(GO) test -run '^$$' -bench . -benchmem ./...

clean:
	rm -rf bin demo
