# deskprov: `make run` starts the server with embedded defaults, `make test` runs every test.
CARGO ?= cargo
ARGS ?=

.PHONY: run test lint fmt build clean

run:
	$(CARGO) run --release -- serve $(ARGS)

test: lint
	$(CARGO) test --all-targets

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --all-targets -- -D warnings

fmt:
	$(CARGO) fmt --all

build:
	$(CARGO) build --release

clean:
	$(CARGO) clean
