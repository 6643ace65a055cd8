# deskprov: `make run` starts the server with embedded defaults, `make test` runs every test.
CARGO ?= cargo
ARGS ?=

.PHONY: run test lint fmt build clean fuzz bench openapi deb deb-check

run:
	$(CARGO) run --release -- serve $(ARGS)

# Cargo's target directory: the tests write their logs under it.
TARGET_DIR ?= $(or $(CARGO_TARGET_DIR),target)

# Runs a command and says how long it took: `$(call timed,name,command)`.
timed = @start=$$(date +%s); $(2); status=$$?; echo "== $(1): $$(( $$(date +%s) - start )) s"; exit $$status

# tests/setup.sh first installs what the tests need when it is missing (Debian's chromium and
# chromium-driver, axe-core from tests/browser/package-lock.json). The tests record the secrets
# they use and keep every log line; scan-logs.sh then proves that no secret reached any log of
# the run.
test: lint
	$(call timed,test setup (installs what is missing),sh tests/setup.sh)
	rm -rf $(TARGET_DIR)/tmp/test-logs
	$(call timed,unit and integration tests (build included),$(CARGO) test --all-targets)
	$(call timed,doc tests,$(CARGO) test --doc)
	$(call timed,log scan,tests/scan-logs.sh $(TARGET_DIR)/tmp/test-logs)

lint:
	$(call timed,formatting,$(CARGO) fmt --all -- --check)
	$(call timed,clippy,$(CARGO) clippy --workspace --all-targets -- -D warnings)

fmt:
	$(CARGO) fmt --all

# docs/openapi.json is generated from the endpoint table and the API's types.
openapi:
	DESKPROV_WRITE_OPENAPI=1 $(CARGO) test --test integration docs_openapi_json_is_the_generated_document

build:
	$(CARGO) build --release

clean:
	$(CARGO) clean

# The Debian package (cargo-deb: `cargo install cargo-deb --locked`) in $(TARGET_DIR)/debian/: the
# release binary, its man pages generated from the CLI (`deskprov man DIR`), the systemd unit and
# its port generator, and /etc/deskprov/deskprov.toml as a conffile (packaging/, Cargo.toml's
# [package.metadata.deb]).
deb:
	$(CARGO) build --release -p deskprov
	rm -rf $(TARGET_DIR)/release/man && mkdir -p $(TARGET_DIR)/release/man
	$(TARGET_DIR)/release/deskprov man $(TARGET_DIR)/release/man
	gzip -9n $(TARGET_DIR)/release/man/*.1
	rm -f $(TARGET_DIR)/debian/deskprov_*.deb
	$(CARGO) deb -p deskprov --no-build

# lintian (no errors), systemd-analyze verify and security (exposure at most 3.0) on the
# unpacked package, and the port generator's cases; needs lintian and systemd (`.ci/run`
# installs them).
deb-check: deb
	packaging/check-deb.sh $(TARGET_DIR)/debian/deskprov_*.deb

# Benchmarks side by side with nginx (not part of `make test` or CI; about five minutes):
# installs nginx and wrk when missing, seeds a site of 10,000 phones, measures both servers
# with the same client (bench/) and writes BENCHMARKS.md. BENCH_ARGS: see
# `target/release/deskprov-bench --help` (e.g. --seconds 5 --only a,b).
BENCH_ARGS ?=

bench:
	sh bench/install-tools.sh
	$(CARGO) build --release -p deskprov -p deskprov-bench
	target/release/deskprov-bench $(BENCH_ARGS)

# Fuzzing (not part of `make test` or CI): seeds fuzz/corpus/, then runs each cargo-fuzz target
# for FUZZ_SECONDS on the nightly toolchain. Crashes land in fuzz/artifacts/<target>/; copy them
# to fuzz/regressions/<target>/ and `cargo test` replays them.
FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?= identify mac_parse admin_json
FUZZ_TOOLCHAIN ?= nightly
FUZZ_ARGS ?=

fuzz:
	$(CARGO) +$(FUZZ_TOOLCHAIN) fuzz --version >/dev/null 2>&1 || $(CARGO) install cargo-fuzz --locked
	sh fuzz/seed.sh
	status=0; for target in $(FUZZ_TARGETS); do \
		echo "== fuzzing $$target for $(FUZZ_SECONDS) s"; \
		$(CARGO) +$(FUZZ_TOOLCHAIN) fuzz run $$target $(FUZZ_ARGS) -- -max_total_time=$(FUZZ_SECONDS) || status=1; \
	done; exit $$status
