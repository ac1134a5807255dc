# Sprout — everyday commands. `make run` serves on the embedded stack;
# `make test` installs what the tests need (Chromium from Debian, as root)
# and runs the whole suite.
GO ?= go
PKGS := ./...

.PHONY: run test test-deps lint build bench fuzz

run:
	$(GO) run ./cmd/sprout

build:
	$(GO) build -o sprout ./cmd/sprout

test: test-deps
	$(GO) test -count=1 -timeout 30m $(PKGS)

# Browser tests drive Debian's Chromium. Install it when missing and we may
# (root with apt-get); otherwise the browser tests say what is missing.
test-deps:
	@if ! command -v chromium >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing chromium from Debian for the browser tests"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else \
	    echo "note: chromium is not installed; browser tests will be skipped (or fail under CI=true)"; \
	  fi; \
	fi

lint:
	gofmt -l . | (! grep .)
	$(GO) vet $(PKGS)

bench:
	$(GO) test -run '^$$' -bench . -benchtime 200x ./app/embedded/

fuzz:
	$(GO) test -run '^$$' -fuzz FuzzCleanFilename -fuzztime 15s -fuzzminimizetime 2s ./uploads/
	$(GO) test -run '^$$' -fuzz FuzzSniff -fuzztime 15s -fuzzminimizetime 2s ./uploads/
	$(GO) test -run '^$$' -fuzz FuzzInspectOOXML -fuzztime 15s -fuzzminimizetime 2s ./uploads/
	$(GO) test -run '^$$' -fuzz FuzzStripPPTX -fuzztime 15s -fuzzminimizetime 2s ./uploads/
	$(GO) test -run '^$$' -fuzz FuzzDecodeJSON -fuzztime 15s -fuzzminimizetime 2s ./handlers/
