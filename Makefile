# taskmonitor: every entry point. `make demo` and `make test` set everything up themselves.

SHELL := /bin/bash
STAGES := $(sort $(wildcard task[0-9]-*))
TEST_MODULES := runner/faulty runner/kunit
export PATH := $(HOME)/.cargo/bin:$(PATH)

# The prepared kernel tree, built on first use (scripts/kernel.sh caches it).
KDIR = $(shell ./scripts/kernel.sh)
KBUILD = $(MAKE) -C $(KDIR) LLVM=-19

.PHONY: help setup kernel kdir modules demo test fmt-check clippy miri fuzz-quick fuzz shell diff \
	readmes book rust-analyzer clean

help:
	@echo "make demo                  set up, build, and show each stage working in a VM"
	@echo "make test                  set up, build, and run every test (what CI runs)"
	@echo "make fuzz                  fuzz the command parser and the page formatter (FUZZ_SECONDS each)"
	@echo "make shell TASK=N          interactive VM shell with stage N's module"
	@echo "make diff FROM=A TO=B      what stage B changes in stage A"
	@echo "make readmes               refresh the diff in each stage README"
	@echo "make book                  build the book into book/build"
	@echo "make kdir                  print the prepared kernel tree (KDIR)"
	@echo "make rust-analyzer         write rust-project.json in every stage"

setup:
	@./scripts/setup.sh

kernel: setup
	@./scripts/kernel.sh >/dev/null

kdir:
	@./scripts/setup.sh >&2
	@./scripts/kernel.sh

# The same kernel with generic KASAN, and the modules built against it in a copy of the
# repository's module folders (Kbuild writes its outputs next to the sources).
KASAN_KDIR = $(shell ./scripts/kernel.sh kasan)
KASAN_MODULES := $(CURDIR)/target/kasan-modules

# Each stage and test module, with clippy, warnings as errors.
modules: kernel
	@set -e; for m in $(STAGES) $(TEST_MODULES); do \
		echo "[modules] $$m"; \
		$(KBUILD) -s M=$(CURDIR)/$$m CLIPPY=1 KRUSTFLAGS=-Dwarnings modules; \
	done

kernel-kasan: setup
	@./scripts/kernel.sh kasan >/dev/null

modules-kasan: kernel-kasan
	@set -e; mkdir -p $(KASAN_MODULES); \
	find common $(STAGES) $(TEST_MODULES) -name '*.rs' -o -name Kbuild -o -name Makefile \
		| xargs cp --parents -t $(KASAN_MODULES); \
	for m in $(STAGES) $(TEST_MODULES); do \
		echo "[modules-kasan] $$m"; \
		$(MAKE) -C $(KASAN_KDIR) LLVM=-19 -s M=$(KASAN_MODULES)/$$m modules; \
	done

demo: modules
	@TASKMONITOR_KDIR=$(KDIR) cargo run -q --bin vm -- demo

fmt-check:
	cargo fmt --check
	rustfmt --check --edition 2021 $(addsuffix /taskmonitor.rs,$(STAGES)) runner/faulty/faulty.rs \
		runner/kunit/taskmonitor_kunit.rs \
		fuzz/fuzz_targets/*.rs

clippy:
	cargo clippy -q --all-targets -- -D warnings

# The pure logic's unit tests under Miri, which checks its unsafe code (the list).
miri: setup
	cargo +nightly miri test -q -p taskmonitor-common

# A bounded run of each fuzz target from the committed corpus; `make fuzz` runs longer.
fuzz-quick: setup
	./scripts/fuzz.sh --quick

fuzz: setup
	./scripts/fuzz.sh

test: modules fmt-check clippy miri fuzz-quick book
	./scripts/stage-readmes.sh --check
	TASKMONITOR_KDIR=$(KDIR) cargo test --workspace

shell: modules
	@test -n "$(TASK)" || { echo "usage: make shell TASK=N"; exit 2; }
	@TASKMONITOR_KDIR=$(KDIR) cargo run -q --bin vm -- shell $(TASK)

diff:
	@test -n "$(FROM)" -a -n "$(TO)" || { echo "usage: make diff FROM=1 TO=2"; exit 2; }
	@./scripts/stage-diff.sh $(FROM) $(TO)

# Writes the diff to the previous stage into each stage's README.
readmes:
	@./scripts/stage-readmes.sh

book: setup
	@./scripts/book.sh

rust-analyzer: kernel
	@set -e; for m in $(STAGES); do \
		$(KBUILD) -s M=$(CURDIR)/$$m rust-analyzer; \
		echo "wrote $$m/rust-project.json"; \
	done

clean:
	@for m in $(STAGES) $(TEST_MODULES); do \
		$(KBUILD) -s M=$(CURDIR)/$$m clean 2>/dev/null || true; \
	done
	cargo clean
	rm -rf book/build
