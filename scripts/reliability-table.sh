#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Turns the figures the stress tests wrote (target/reliability/stageN-KERNEL.txt, one
# key=value per line) into the Markdown table of the book's Reliability chapter.
#
#   scripts/reliability-table.sh            print the table
#   scripts/reliability-table.sh --write    write it to book/src/reliability/table.md
set -euo pipefail
cd "$(dirname "$0")/.."

dir=target/reliability
out=book/src/reliability/table.md
ls "$dir"/stage*-*.txt >/dev/null 2>&1 || {
  echo "no figures in $dir: run make test (or make test-full) first" >&2
  exit 1
}

table() {
  echo "| stage | kernel | stress | lines read and checked (sysfs + debugfs) | sample allocations failed by failslab | malformed commands refused (EINVAL) | processes exited while monitored | insmod/rmmod cycles | splats, bad taint, leaks |"
  echo "|---|---|---|---|---|---|---|---|---|"
  # Stage numbers are one digit: byte order puts stage 7 before "7c", its C reference.
  for f in $(ls "$dir"/stage*-*.txt | LC_ALL=C sort); do
    awk -F= '
      { v[$1] = $2 }
      function or0(k) { return (k in v) ? v[k] : "-" }
      END {
        lines = v["sysfs_lines"] + (("debugfs_lines" in v) ? v["debugfs_lines"] : 0)
        printf "| %s | %s | %s s at %s Hz | %d | %s | %s | %s | %s | 0 |\n",
          v["stage"], v["kernel"], v["stress_seconds"], v["frequency"], lines,
          or0("faults_injected"), or0("bad_commands"), or0("exited_while_monitored"),
          v["cycles"]
      }' "$f"
  done
}

if [ "${1:-}" = --write ]; then
  table >"$out"
  echo "wrote $out"
else
  table
fi
