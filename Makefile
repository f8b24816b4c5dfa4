# SPDX-License-Identifier: GPL-2.0
# taskmonitor: every entry point. `make demo` and `make test` set everything up themselves.

SHELL := /bin/bash
STAGES := $(sort $(wildcard task[0-9]-*))
TEST_MODULES := runner/faulty runner/kunit
# The floor of `make bench`: a thread that only reads what a sample holds (bench/floor/).
BENCH_MODULE := bench/floor
# The finished lab in C, with stage 7's interface (c-reference/README.md).
C_MODULES := c-reference
export PATH := $(HOME)/.cargo/bin:$(PATH)

# The prepared kernel tree, built on first use (scripts/kernel.sh caches it).
KDIR = $(shell ./scripts/kernel.sh)
KBUILD = $(MAKE) -C $(KDIR) LLVM=-19

.PHONY: help setup kernel kdir modules kernel-kasan modules-kasan kernel-bench demo test test-full kasan-subset check check-all \
	fmt-check clippy c-check miri loom fuzz-quick fuzz shell diff readmes book rust-analyzer clean bench bench-check guest-tools

help:
	@echo "make demo                  set up, build, and show each stage working in a VM"
	@echo "make test                  set up, build, and run every test (what CI runs)"
	@echo "make test-full             make test, plus every VM test on the KASAN kernel"
	@echo "make fuzz                  fuzz the command parser and the page formatter (FUZZ_SECONDS each)"
	@echo "make shell TASK=N          interactive VM shell with stage N's module (TASK=c: the C one)"
	@echo "make shell SRC=DIR         the same with your own module folder"
	@echo "make check TASK=N SRC=DIR  check your module against the lab's tasks 1 to N (JUNIT=, KTAP=, KASAN=1)"
	@echo "make check-all TASK=N DIR=D  check every module folder in D, and write a table (TABLE=)"
	@echo "make diff FROM=A TO=B      what stage B changes in stage A"
	@echo "make diff FROM=7 TO=c      stage 7's Rust beside the C reference, piece by piece"
	@echo "make readmes               refresh the diff in each stage README"
	@echo "make book                  build the book into book/build and check its links and pages"
	@echo "make kdir                  print the prepared kernel tree (KDIR)"
	@echo "make rust-analyzer         write rust-project.json in every stage"
	@echo "make bench                 measure memory, CPU and export costs, Rust against C, in VMs, for the book"
	@echo "make bench-check           check the committed measurements' report, and a tiny VM run"

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
KASAN_ENV = TASKMONITOR_KDIR=$(KASAN_KDIR) TASKMONITOR_MODULES=$(KASAN_MODULES)

# Each stage and test module, with clippy, warnings as errors; the C module with the
# extra warnings of W=1, as errors.
modules: kernel
	@set -e; for m in $(STAGES) $(TEST_MODULES) $(BENCH_MODULE); do \
		echo "[modules] $$m"; \
		$(KBUILD) -s M=$(CURDIR)/$$m CLIPPY=1 KRUSTFLAGS=-Dwarnings modules; \
	done; \
	for m in $(C_MODULES); do \
		echo "[modules] $$m"; \
		$(KBUILD) -s M=$(CURDIR)/$$m W=1 KCFLAGS=-Werror modules; \
	done

kernel-kasan: setup
	@./scripts/kernel.sh kasan >/dev/null

modules-kasan: kernel-kasan
	@set -e; mkdir -p $(KASAN_MODULES); \
	find common $(STAGES) $(TEST_MODULES) $(C_MODULES) -name '*.rs' -o -name Kbuild \
		-o -name Makefile -o -name '*.c' ! -name '*.mod.c' | xargs cp --parents -t $(KASAN_MODULES); \
	for m in $(STAGES) $(TEST_MODULES) $(C_MODULES); do \
		echo "[modules-kasan] $$m"; \
		$(MAKE) -C $(KASAN_KDIR) LLVM=-19 -s M=$(KASAN_MODULES)/$$m modules; \
	done

demo: modules
	@TASKMONITOR_KDIR=$(KDIR) cargo run -q --bin vm -- demo

fmt-check:
	cargo fmt --check
	rustfmt --check --edition 2021 $(addsuffix /taskmonitor.rs,$(STAGES)) runner/faulty/faulty.rs runner/misuse/misuse.rs \
		runner/kunit/taskmonitor_kunit.rs bench/floor/taskmonitor_floor.rs \
		fuzz/fuzz_targets/*.rs

clippy:
	cargo clippy -q --all-targets -- -D warnings

# The C module in kernel style, and its side-by-side view with stage 7 (`make diff
# FROM=7 TO=c`), which fails if an anchor it pairs is missing.
c-check: kernel
	$(KDIR)/scripts/checkpatch.pl --strict --no-tree --quiet -f c-reference/taskmonitor.c
	./scripts/stage-diff.sh 7 c >/dev/null

# The pure logic's unit tests under Miri, which checks its unsafe code (the lists, the
# cursor, the teardown state machine).
miri: setup
	cargo +nightly miri test -q -p taskmonitor-common

# The teardown state machine of the static caches and pools (common/src/static_object.rs)
# under every interleaving loom finds, with the same code the modules build.
loom:
	RUSTFLAGS="--cfg loom" cargo test -q --release -p taskmonitor-common --test loom

# A bounded run of each fuzz target from the committed corpus; `make fuzz` runs longer.
fuzz-quick: setup
	./scripts/fuzz.sh --quick

fuzz: setup
	./scripts/fuzz.sh

# Everything, with the VM tests on the test kernel, then on the KASAN kernel the KUnit
# suite and the stress of the modules that together reach all of common/ (kasan-subset).
# Each module's stress runs once: those three on KASAN (the same kernel plus KASAN), the
# other stages' on the test kernel.
test: modules guest-tools fmt-check clippy c-check miri loom fuzz-quick book bench-check
	./scripts/stage-readmes.sh --check
	TASKMONITOR_KDIR=$(KDIR) cargo test --workspace -- $(addprefix --skip ,$(KASAN_STRESS))
	$(MAKE) --no-print-directory kasan-subset

# `make test`, the stress of stages 3 and 7 and the C reference on the test kernel too,
# and the other VM tests on the KASAN kernel as well (every stage's stress).
KASAN_REST = $(patsubst runner/tests/%.rs,--test %,$(filter-out runner/tests/kunit.rs \
	runner/tests/bench_%,$(wildcard runner/tests/*.rs)))
test-full: test
	TASKMONITOR_KDIR=$(KDIR) cargo test -p runner --test stress -- --exact $(KASAN_STRESS)
	$(KASAN_ENV) cargo test -p runner $(KASAN_REST) -- $(addprefix --skip ,$(KASAN_STRESS))

# All `unsafe` code is in common/. KUnit drives every wrapper; stage 3 (its slab cache
# without a pool) and stage 7 (every other wrapper), in Rust and in C, are the stress runs
# that reach all of it. Stages 1, 2, 4, 5 and 6 use subsets of the same wrappers: their
# stress runs on the test kernel, and on KASAN in `make test-full` (which also runs these
# three on the test kernel).
KASAN_STRESS := stage3_under_stress stage7_under_stress c_reference_under_stress
kasan-subset: modules-kasan guest-tools
	$(KASAN_ENV) cargo test -p runner --test kunit
	$(KASAN_ENV) cargo test -p runner --test stress -- --exact $(KASAN_STRESS)

shell: modules
	@test -n "$(TASK)$(SRC)" || { echo "usage: make shell TASK=N (1 to 7, or c for the C reference), or make shell SRC=DIR"; exit 2; }
	@TASKMONITOR_KDIR=$(KDIR) cargo run -q --bin vm -- shell $(if $(SRC),--src $(SRC),$(TASK))

# A module, a student's (SRC=DIR) or our stage TASK, checked against the lab in the VM;
# KASAN=1 boots the KASAN kernel.
CHECK_KERNEL = $(if $(KASAN),kernel-kasan modules-kasan,modules)
CHECK_ENV = $(if $(KASAN),$(KASAN_ENV),TASKMONITOR_KDIR=$(KDIR))
check: $(CHECK_KERNEL)
	@test -n "$(TASK)" || { echo "usage: make check TASK=N [SRC=DIR] [JUNIT=FILE] [KTAP=FILE] [KASAN=1] [VERBOSE=1]"; exit 2; }
	@$(CHECK_ENV) cargo run -q --bin vm -- check $(TASK) $(if $(SRC),--src $(SRC)) \
		$(if $(JUNIT),--junit $(JUNIT)) $(if $(KTAP),--ktap $(KTAP)) $(if $(VERBOSE),--verbose $(VERBOSE))

check-all: $(CHECK_KERNEL)
	@test -n "$(TASK)" -a -n "$(DIR)" || { echo "usage: make check-all TASK=N DIR=submissions/ [TABLE=PATH] [JUNIT=FILE]"; exit 2; }
	@$(CHECK_ENV) cargo run -q --bin vm -- check-all $(TASK) $(DIR) \
		$(if $(TABLE),--table $(TABLE)) $(if $(JUNIT),--junit $(JUNIT))

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
	@for m in $(STAGES) $(TEST_MODULES) $(BENCH_MODULE) $(C_MODULES); do \
		$(KBUILD) -s M=$(CURDIR)/$$m clean 2>/dev/null || true; \
	done
	cargo clean
	rm -rf book/build

# Programs run inside the VM, linked statically: the VM has only busybox.
GUEST_TARGET := x86_64-unknown-linux-gnu
STATIC_BUILD = CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_RUSTFLAGS="-C target-feature=+crt-static" \
	cargo build -q --release --target $(GUEST_TARGET)

# The tools some VM tests use (runner/guest/).
guest-tools:
	$(STATIC_BUILD) -p taskmonitor-guest

# The measuring tool of `make bench`.
BENCH_TARGET := $(GUEST_TARGET)
BENCH_GUEST := target/$(BENCH_TARGET)/release/bench-guest
BUILD_BENCH_GUEST = $(STATIC_BUILD) -p taskmonitor-bench --bin bench-guest
BENCH_DIR := book/src/measurements

# Stage 7, the C reference and the floor, built in clean copies for a kernel, with each
# build timed (scripts/bench-modules.sh).
BENCH_KDIR = $(shell ./scripts/kernel.sh bench)
BENCH_BUILDS := $(CURDIR)/target/bench-modules

# Measures every stage in VMs, and stage 7 against the C reference on the measuring kernel
# (built once, like the others: kernel/bench.config) and on the test kernel; writes the
# report and plots that the book includes.
kernel-bench: setup
	@./scripts/kernel.sh bench >/dev/null

bench: modules kernel-bench
	$(BUILD_BENCH_GUEST)
	./scripts/bench-modules.sh $(BENCH_KDIR) $(BENCH_BUILDS)/production production
	./scripts/bench-modules.sh $(KDIR) $(BENCH_BUILDS)/debug debug
	TASKMONITOR_KDIR=$(KDIR) cargo run -q -p taskmonitor-bench --bin bench -- run $(BENCH_GUEST) $(BENCH_DIR) \
		$(BENCH_BUILDS)/production $(BENCH_BUILDS)/debug

# The committed report is what the code makes of the committed raw data, and a tiny VM
# run still measures and reports (seconds), Rust against C on the test kernel only: the
# measuring kernel is built by `make bench` alone.
bench-check: modules
	$(BUILD_BENCH_GUEST)
	./scripts/bench-modules.sh $(KDIR) $(BENCH_BUILDS)/tiny debug --built
	TASKMONITOR_KDIR=$(KDIR) cargo run -q -p taskmonitor-bench --bin bench -- check $(BENCH_GUEST) $(BENCH_DIR) \
		$(BENCH_BUILDS)/tiny
