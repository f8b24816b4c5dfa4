#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# `make diff FROM=A TO=B`: the source change from stage A to stage B; with FROM=7 TO=c,
# stage 7 beside the C reference (scripts/c-beside-rust.sh).
# With --code, the stages' READMEs are left out (for the diff shown in a README).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/stage-excludes.sh
excludes=("${stage_excludes[@]}")
if [ "${1:-}" = "--code" ]; then
  excludes+=(-x README.md)
  shift
fi
# Stage 7 and the C reference are two languages: shown side by side, piece by piece.
if [ "$1" = 7 ] && [ "${2:-}" = c ]; then
  exec ./scripts/c-beside-rust.sh
fi
stage() { ls -d task"$1"-* 2>/dev/null | head -n 1; }
from=$(stage "$1")
to=$(stage "$2")
[ -n "$from" ] && [ -n "$to" ] || { echo "no such stage: $1 or $2" >&2; exit 2; }
# Timestamps would make the output differ from one checkout to the next, and the
# command line repeats what the reader asked for.
{ diff -ruN "${excludes[@]}" "$from" "$to" || [ $? -eq 1 ]; } |
  sed -E -e '/^diff -ruN /d' -e 's/^(---|\+\+\+) ([^\t]+)\t.*/\1 \2/'
