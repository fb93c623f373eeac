# Trellis: two commands on a fresh machine.
#   make demo   generate a realistic region, import it, print a summary
#   make test   build and run every test
#   make install PREFIX=/usr/local   the release binary, man pages, shell completions, docs
SHELL := /bin/bash
# chromium + poppler-utils: the board report is rendered and printed headless in the tests (tools/check-report.py).
# graphviz + libxml2-utils: researcher exports are read back with dot and validated with xmllint.
# postgresql-15 + libpq-dev: the PostgreSQL store (libpq) and the throw-away test cluster (tools/pg/cluster.sh).
APT_PACKAGES := libsqlite3-dev liblz4-dev zlib1g-dev pkg-config sqlite3 lz4 chromium poppler-utils graphviz libxml2-utils postgresql-15 libpq-dev libreoffice-calc-nogui
SWIFT_BUILD_FLAGS ?=
BIN := .build/debug/trellis
DEMO_DIR ?= demo
PREFIX ?= /usr/local
DESTDIR ?=
CONFIG ?= release
MAN_DIR := .build/plugins/GenerateManual/outputs/TrellisCLI

.PHONY: all deps build test demo bench clean embed fuzz release man install

all: build

# Installs the system libraries with apt-get when missing (as root); otherwise says how.
deps:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing$$missing"; \
	    (apt-get install -y -q $$missing >/dev/null 2>&1 || (apt-get update -q >/dev/null && apt-get install -y -q $$missing >/dev/null)) \
	      || { echo "apt-get install$$missing failed"; exit 1; }; \
	  else \
	    echo "missing system packages:$$missing"; echo "run: sudo apt-get install -y$$missing"; exit 1; \
	  fi; \
	fi
	@python3 -c 'import jsonschema, referencing' 2>/dev/null || python3 -m pip install -q jsonschema referencing
	@# The researcher-format tests load every export with networkx, python-igraph, pandas and pydot.
	@python3 -c 'import networkx, igraph, pandas, pydot' 2>/dev/null || python3 -m pip install -q networkx igraph pandas pydot
	@# The xlsx tests read every workbook Trellis writes back with openpyxl.
	@python3 -c 'import openpyxl' 2>/dev/null || python3 -m pip install -q openpyxl

build: deps
	swift build $(SWIFT_BUILD_FLAGS)

embed:
	python3 tools/embed-projections.py

# The PostgreSQL tests run against a throw-away cluster on a loopback port (never skipped: without
# TRELLIS_TEST_PG_URL they fail); it is stopped and removed afterwards, also when a test fails.
# Then the CLI test targets run again on the PostgreSQL store (TRELLIS_TEST_STORE=postgresql: each
# ledger file a test names becomes a database of its own on that cluster, the file its local cache).
# hostile_lines then feeds every file of hostile lines to both stores, which must answer alike.
CLI_TEST_TARGETS := TrellisCLITests|TrellisLedgerTests|TrellisReportsTests|TrellisResearchTests|TrellisRegistersTests|TrellisProjectionsTests
test: build
	python3 tools/check-imports.py --self-test
	python3 tools/check-imports.py
	python3 tools/check_schemas.py --meta
	python3 tools/check_schemas.py
	@tools/pg/cluster.sh start >/dev/null; trap 'tools/pg/cluster.sh stop' EXIT; eval "$$(tools/pg/cluster.sh env)"; \
	  swift test $(SWIFT_BUILD_FLAGS) && \
	  TRELLIS_TEST_STORE=postgresql swift test $(SWIFT_BUILD_FLAGS) --skip-build --filter '$(CLI_TEST_TARGETS)' && \
	  python3 tools/hostile_lines.py --lines 10000 --postgres "$$TRELLIS_TEST_PG_URL"
	python3 tools/crash_test.py --runs 10 --batch 10000

# Coverage-guided fuzzing of the decoder and rules (libFuzzer via swiftc -sanitize=fuzzer).
fuzz:
	tools/fuzz/run.sh $(or $(FUZZ_SECONDS),60)

demo: build
	$(BIN) demo --dir $(DEMO_DIR)

# Release-built benchmark: ours next to raw sqlite3 in the same run (1 M events by default).
# Then the PostgreSQL store next to a raw COPY of the same rows, on a throw-away cluster.
# trellis itself too: the bench times reports and peak RSS as `trellis` processes beside it.
bench: deps
	swift build -c release --product trellis
	swift build -c release --product trellis-bench
	swift build -c release --product trellis-pg-bench
	.build/release/trellis-bench $(BENCH_ARGS)
	@tools/pg/cluster.sh start >/dev/null; trap 'tools/pg/cluster.sh stop' EXIT; eval "$$(tools/pg/cluster.sh env)"; \
	  .build/release/trellis-pg-bench $(PG_BENCH_ARGS)

release: deps
	swift build -c $(CONFIG) --product trellis

# One man page per command (trellis.1, trellis.report.1, …), written by swift-argument-parser's
# generate-manual plugin from the same help text as --help (it builds the package in $(CONFIG) mode).
man: deps
	swift package plugin generate-manual --configuration $(CONFIG) --multi-page --authors "The Trellis authors"

install: release man
	install -d "$(DESTDIR)$(PREFIX)/bin" "$(DESTDIR)$(PREFIX)/share/man/man1" "$(DESTDIR)$(PREFIX)/share/doc/trellis" \
	  "$(DESTDIR)$(PREFIX)/share/bash-completion/completions" "$(DESTDIR)$(PREFIX)/share/zsh/site-functions" \
	  "$(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d"
	install -m 755 .build/$(CONFIG)/trellis "$(DESTDIR)$(PREFIX)/bin/trellis"
	install -m 644 $(MAN_DIR)/*.1 "$(DESTDIR)$(PREFIX)/share/man/man1/"
	install -m 644 docs/figures.md "$(DESTDIR)$(PREFIX)/share/doc/trellis/figures.md"
	.build/$(CONFIG)/trellis --generate-completion-script bash > "$(DESTDIR)$(PREFIX)/share/bash-completion/completions/trellis"
	.build/$(CONFIG)/trellis --generate-completion-script zsh > "$(DESTDIR)$(PREFIX)/share/zsh/site-functions/_trellis"
	.build/$(CONFIG)/trellis --generate-completion-script fish > "$(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d/trellis.fish"
	@echo "installed $$("$(DESTDIR)$(PREFIX)/bin/trellis" --version) in $(DESTDIR)$(PREFIX)"

clean:
	rm -rf .build $(DEMO_DIR)
