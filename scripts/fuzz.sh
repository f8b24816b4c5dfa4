#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Fuzzes the pure logic in common/ with cargo-fuzz (libFuzzer): the targets in fuzz/.
#
#   scripts/fuzz.sh --quick   a fixed number of runs per target with a fixed seed: bounded
#                             (about 5 + 15 s here, after the build), nearly the same
#                             inputs every time
#   scripts/fuzz.sh           FUZZ_SECONDS (default 300) per target, random seed
#
# Each run starts from the reviewed seeds in fuzz/corpus/TARGET, copied into the ignored
# fuzz/corpus-run/ so that libFuzzer's finds never land in the committed corpus; the long
# mode keeps its corpus there from one run to the next. Any crash fails the script; libFuzzer
# leaves the input in fuzz/artifacts/TARGET/ (`cargo +nightly fuzz tmin TARGET FILE` shrinks it).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"

TARGETS=(parse_command fill_page)
# A command is at most 32 bytes: 64 covers TooLong. fill_page decodes 49 bytes per sample,
# so 4096 holds over 80 of them (and its `repeat` byte fills any page).
declare -A MAX_LEN=([parse_command]=64 [fill_page]=4096)
# About 5 s and 15 s on the project's machine, after the build.
declare -A QUICK_RUNS=([parse_command]=1000000 [fill_page]=200000)

quick=false
case "${1:-}" in
  --quick) quick=true ;;
  "") ;;
  *) echo "usage: $0 [--quick]" >&2; exit 2 ;;
esac

say() { printf '[fuzz] %s\n' "$*"; }

if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
  say "cargo-fuzz is missing: run scripts/setup.sh"
  exit 1
fi

# cargo-fuzz needs nightly (sanitizer flags); +nightly overrides rust-toolchain.toml.
say "building ${TARGETS[*]}"
cargo +nightly fuzz build

for target in "${TARGETS[@]}"; do
  if $quick; then
    scratch="fuzz/corpus-run/quick/$target"
    rm -rf "$scratch"
    limit=(-runs="${QUICK_RUNS[$target]}" -seed=1)
  else
    scratch="fuzz/corpus-run/$target"
    limit=(-max_total_time="${FUZZ_SECONDS:-300}")
  fi
  mkdir -p "$scratch"
  cp "fuzz/corpus/$target"/* "$scratch"/
  log="$scratch.log"
  say "$target: ${limit[*]} -max_len=${MAX_LEN[$target]} (log: $log)"
  if ! cargo +nightly fuzz run "$target" "$scratch" -- \
      -max_len="${MAX_LEN[$target]}" "${limit[@]}" -print_final_stats=1 >"$log" 2>&1; then
    tail -n 60 "$log"
    say "$target: FAILED (input in fuzz/artifacts/$target/)"
    exit 1
  fi
  grep -E '^#[0-9]+[[:space:]]+DONE|^Done [0-9]+ runs' "$log" | sed "s/^/[fuzz] $target: /"
done
say "ok"
