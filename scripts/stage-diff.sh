#!/usr/bin/env bash
# `make diff FROM=A TO=B`: the source change from stage A to stage B (tracked files only).
set -euo pipefail
cd "$(dirname "$0")/.."
stage() { ls -d task"$1"-* 2>/dev/null | head -n 1; }
from=$(stage "$1"); to=$(stage "$2")
[ -n "$from" ] && [ -n "$to" ] || { echo "no such stage: $1 or $2" >&2; exit 2; }
# Build outputs are not part of a stage.
diff -ruN -x '*.o' -x '*.ko' -x '*.mod' -x '*.mod.c' -x '.*.cmd' -x '*.order' \
  -x '*.symvers' -x 'rust-project.json' -x '.module-common.o' "$from" "$to" || [ $? -eq 1 ]
