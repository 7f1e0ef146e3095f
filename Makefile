# Herald: `make run` starts the demo on the embedded default; `make test` builds and passes all
# tests. Both install what they need on Debian 12 (as root) first.

SHELL := /bin/bash
JOBS ?= $(shell nproc)
DATA ?= data
PORT ?= 8443
SMTP_PORT ?= 2525

DEBIAN_PACKAGES := g++ cmake make pkg-config ccache libboost1.81-dev libssl-dev openssl \
	libsqlite3-dev sqlite3 libcli11-dev libtomlplusplus-dev libgtest-dev libgmock-dev \
	python3 python3-aiosmtpd ca-certificates clang libclang-rt-14-dev clang-format clang-tidy libtsan2 wrk nginx linux-perf libbenchmark-dev \
	softhsm2 libp11-kit-dev postgresql-15 postgresql-client-15 libpq-dev \
	libphonenumber8 libprotobuf-dev libabsl-dev libcairo2-dev libpango1.0-dev libpoppler-cpp-dev \
	libssh-dev openssh-server openssh-sftp-server faketime libargon2-dev libqrencode-dev \
	dpkg-dev lintian systemd man-db adduser init-system-helpers util-linux mount strace \
	prometheus python3-yaml python3-jsonschema testssl.sh sqlmap

# libphonenumber's headers. Debian 12's libphonenumber-dev cannot be installed beside
# libboost1.81-dev: it depends on libboost-thread-dev, i.e. Boost 1.74, whose headers would replace
# 1.81's. Its headers need no Boost, so `deps` unpacks them from that package into build/ instead
# (CMakeLists.txt looks there); the library itself is libphonenumber8's.
PHONENUMBER_DEB := libphonenumber-dev=8.12.57+ds-3
PHONENUMBER_DIR := build/third_party/libphonenumber

.PHONY: deps build build-asan run test unit bench fuzz clean e2e-deps tsan faults deb release pentest

# Installs missing Debian packages (and Node.js/npm only when no node is on the machine).
deps:
	@missing=""; for p in $(DEBIAN_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	command -v node >/dev/null 2>&1 || missing="$$missing nodejs"; \
	command -v npm >/dev/null 2>&1 || missing="$$missing npm"; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  export DEBIAN_FRONTEND=noninteractive; \
	  apt-get update -qq && apt-get install -y -qq --no-install-recommends $$missing; \
	fi
	@if [ ! -f $(PHONENUMBER_DIR)/usr/include/phonenumbers/phonenumberutil.h ]; then \
	  echo "unpacking $(PHONENUMBER_DEB) headers into $(PHONENUMBER_DIR)"; \
	  tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && cd "$$tmp" && \
	  { apt-get download -qq $(PHONENUMBER_DEB) 2>/dev/null || \
	    { apt-get update -qq && apt-get download -qq $(PHONENUMBER_DEB); }; } && \
	  cd - >/dev/null && mkdir -p $(PHONENUMBER_DIR) && \
	  dpkg-deb -x "$$tmp"/libphonenumber-dev_*.deb $(PHONENUMBER_DIR); \
	fi
	@# The admin UI's assets (nhsuk-frontend), embedded in the binary at build time.
	@if [ ! -f ui/node_modules/.package-lock.json ] || [ ui/package-lock.json -nt ui/node_modules/.package-lock.json ]; then \
	  cd ui && npm ci --no-audit --no-fund; \
	fi

build/release/Makefile:
	cmake -S . -B build/release -DCMAKE_BUILD_TYPE=Release -DHERALD_TESTS=OFF

build: deps build/release/Makefile
	cmake --build build/release -j $(JOBS) --target herald

# The Debian package, build/deb/herald_<version>_amd64.deb, from the release build (CPack:
# cmake/packaging.cmake, packaging/). Dated from the last commit, so the same commit makes the same
# package; tests/packaging/test_package.py checks and installs it.
deb: build
	cmake --build build/release -j $(JOBS) --target herald_package_files
	cd build/release && SOURCE_DATE_EPOCH=$${SOURCE_DATE_EPOCH:-$$(git log -1 --format=%ct)} cpack -G DEB

# A signed, reproducible release of COMMIT (docs/releases.md): every commit after RELEASE_SINCE
# (by default packaging/signed-since: the last commit before Herald's own commits were signed)
# signed by a key in ALLOWED_SIGNERS, two clean builds compared byte for byte, then the binary,
# package, SBOM, provenance and metadata signed with RELEASE_KEY (its passphrase in
# $$HERALD_RELEASE_KEY_PASSPHRASE) into dist/herald-<version>/.
COMMIT ?= HEAD
RELEASE_SINCE ?= $(shell cat packaging/signed-since 2>/dev/null)
RELEASE_KEY ?= release.key
ALLOWED_SIGNERS ?= packaging/allowed_signers
release: export HERALD_ALLOW_ROOT = 1
release: build
	version=$$(./build/release/herald --version | head -1 | cut -d' ' -f2); \
	./build/release/herald release build --repo . --commit $(COMMIT) $(if $(RELEASE_SINCE),--since $(RELEASE_SINCE)) \
	  --allowed-signers $(ALLOWED_SIGNERS) --key $(RELEASE_KEY) --jobs $(JOBS) --out dist/herald-$$version

build/asan/Makefile:
	cmake -S . -B build/asan -DCMAKE_BUILD_TYPE=Debug -DHERALD_SANITIZE=ON

build-asan: deps build/asan/Makefile
	cmake --build build/asan -j $(JOBS)

# The fault-injection suite alone, each scenario FAULT_ROUNDS times (tests/faults/test_faults.py;
# `make test` runs each once), ending with every scenario's count of duplicate deliveries.
FAULT_ROUNDS ?= 5
faults: build-asan e2e-deps
	cd build/asan && FAULT_ROUNDS=$(FAULT_ROUNDS) ctest -R '^faults[.]' --output-on-failure -V --timeout 14400

tests/e2e/node_modules/.package-lock.json: tests/e2e/package-lock.json
	cd tests/e2e && npm ci --no-audit --no-fund

# Debian's Chromium for the admin UI's browser tests (Playwright drives it; no browser download).
e2e-deps: deps tests/e2e/node_modules/.package-lock.json
	@dpkg -s chromium >/dev/null 2>&1 || { echo "installing: chromium"; export DEBIAN_FRONTEND=noninteractive; \
	  apt-get update -qq && apt-get install -y -qq --no-install-recommends chromium; }

# Every suite (unit, integration, security, e2e, lint, the Debian package) against the ASan+UBSan
# build, the concurrency tests under ThreadSanitizer (`tsan`), then a short libFuzzer run of each
# parser.
test: build-asan e2e-deps deb
	cd build/asan && ctest --output-on-failure -j 2 --timeout 900
	$(MAKE) tsan
	$(MAKE) fuzz FUZZ_SECONDS=20

build/tsan/Makefile:
	cmake -S . -B build/tsan -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG=-g1 -DHERALD_TSAN=ON

# The tests of Herald's own threads (group commit, limits, router, delivery worker) under
# ThreadSanitizer, in a build that holds only them and the libraries they link (tests/tsan/).
tsan: deps build/tsan/Makefile
	cmake --build build/tsan -j $(JOBS) --target herald_tsan_tests
	cd build/tsan && ctest --output-on-failure -j 2 --timeout 600

unit: build-asan
	cd build/asan && ctest --output-on-failure -L unit

# The demo: data directory, local SMTP sink (mail lands in $(DATA)/mail), demo service, server.
# As root (a fresh Debian machine), the demo is told it may run as root: Herald refuses otherwise
# (README, "Running Herald as a service").
run: export HERALD_ALLOW_ROOT = 1
run: build
	./build/release/herald init --data-dir $(DATA) --port $(PORT) --smtp-port $(SMTP_PORT)
	./build/release/herald --config $(DATA)/herald.toml demo
	@/usr/bin/python3 tests/tools/smtp_sink.py --port $(SMTP_PORT) --maildir $(DATA)/mail & sink=$$!; \
	trap 'kill $$sink 2>/dev/null' EXIT; \
	echo "Herald: https://127.0.0.1:$(PORT)  (trust $(DATA)/tls/cert.pem, e.g. NODE_EXTRA_CA_CERTS=$(DATA)/tls/cert.pem)"; \
	./build/release/herald --config $(DATA)/herald.toml serve

# Accepted notifications per second against the machine's own ceilings (nginx, Herald's
# listener, the disk's fsync rate), delivery to a local sink, 1 M / 10 M-row scale runs and
# micro-benchmarks; writes bench/RESULTS.md.
bench: export HERALD_ALLOW_ROOT = 1
bench: deps build/release/Makefile
	cmake --build build/release -j $(JOBS) --target herald herald_bench_fill herald_micro_bench
	/usr/bin/python3 bench/bench.py build/release/herald --seconds 10 --runs 3
	/usr/bin/python3 bench/flood_memory.py build/release/herald --connections 5000,10000 --limit 2.0
	/usr/bin/python3 bench/nhs_batch.py build/release/herald --runs 3

build/fuzz/Makefile:
	CXX=clang++ cmake -S . -B build/fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DHERALD_FUZZ=ON -DHERALD_TESTS=OFF -DHERALD_WERROR=OFF

# Short libFuzzer runs of every parser target over its checked-in corpus (FUZZ_SECONDS each).
FUZZ_SECONDS ?= 20
FUZZERS := json jwt jwks govuk_send_email backup_reader audit_checkpoint sms_text email_markdown phone_number \
	postal_address precompiled_letter letter_report nhs_inputs webauthn multipart_csv release_documents
FUZZ_TARGETS := $(addsuffix _fuzzer,$(FUZZERS))
fuzz: deps build/fuzz/Makefile
	cmake --build build/fuzz -j $(JOBS) --target $(FUZZ_TARGETS)
	@set -o pipefail; for t in $(FUZZERS); do \
	  mkdir -p build/fuzz/corpus/$$t; \
	  ./build/fuzz/$${t}_fuzzer -max_total_time=$(FUZZ_SECONDS) -max_len=4096 build/fuzz/corpus/$$t fuzz/corpus/$$t 2>&1 | tail -2 || exit 1; \
	done

# The penetration test (pentest/README.md): testssl.sh, authenticated sqlmap on every parameter of
# both APIs and PENTEST_FUZZ_SECONDS of each libFuzzer target, against the ASan build; the dated
# record goes to pentest/results/<date, UTC>/, to be committed (`herald compliance report` cites
# the newest). `make test` runs a short one.
PENTEST_FUZZ_SECONDS ?= 300
pentest: export HERALD_ALLOW_ROOT = 1
pentest: build-asan build/fuzz/Makefile
	cmake --build build/fuzz -j $(JOBS) --target $(FUZZ_TARGETS)
	/usr/bin/python3 tests/pentest/run_pentest.py build/asan/herald --out pentest/results --fuzz-dir build/fuzz \
	  --fuzz-seconds $(PENTEST_FUZZ_SECONDS)

clean:
	rm -rf build
