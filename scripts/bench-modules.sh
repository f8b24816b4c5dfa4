#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Builds the modules `make bench` compares against one kernel, each in a clean copy,
# and times each build:
#
#   scripts/bench-modules.sh KDIR OUT LABEL [--built]
#
# OUT gets stage 7 (task7-multi/), the C reference (c-reference/) and the floor module
# (bench/floor/), with common/ beside them; OUT/build-ms the milliseconds of each build
# (`NAME MS`, one per line), OUT/kdir the kernel tree, OUT/label LABEL. The build is
# Kbuild's plain one, as a student would run it (no clippy), on every CPU. With --built,
# OUT links to the modules `make modules` built in the repository for KDIR instead, and
# times nothing (`make bench-check`'s tiny run).
set -euo pipefail

usage() { echo "usage: $0 KDIR OUT LABEL [--built]" >&2; exit 2; }
case $# in
  3) built= ;;
  4) [ "$4" = --built ] || usage; built=1 ;;
  *) usage ;;
esac
kdir=$1 out=$2 label=$3
root=$(cd "$(dirname "$0")/.." && pwd)
[ -f "$kdir/.taskmonitor-ready" ] || { echo "$0: $kdir is not a prepared kernel tree" >&2; exit 2; }

rm -rf "$out"
mkdir -p "$out"
out=$(cd "$out" && pwd) # Kbuild's M= must be absolute
if [ -n "$built" ]; then
  mkdir -p "$out/bench"
  for m in task7-multi c-reference bench/floor; do
    compgen -G "$root/$m/*.ko" >/dev/null || { echo "$0: $m is not built: run make modules" >&2; exit 2; }
    ln -s "$root/$m" "$out/$m"
  done
  echo "$kdir" > "$out/kdir"
  echo "$label" > "$out/label"
  exit 0
fi
# The sources only, not what the repository's own builds left beside them.
(cd "$root" && find common task7-multi c-reference bench/floor \( -name '*.rs' -o -name Kbuild \
  -o -name '*.c' ! -name '*.mod.c' \) -print0 | xargs -0 cp --parents -t "$out")
echo "$kdir" > "$out/kdir"
echo "$label" > "$out/label"
: > "$out/build-ms"
for m in task7-multi c-reference bench/floor; do
  start=$(date +%s%N)
  make -s -C "$kdir" LLVM=-19 M="$out/$m" -j"$(nproc)" modules
  echo "$m $(( ($(date +%s%N) - start) / 1000000 ))" >> "$out/build-ms"
done
echo "[bench-modules] $label: $(tr '\n' ' ' < "$out/build-ms")" >&2
