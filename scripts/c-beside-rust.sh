#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# `make diff FROM=7 TO=c`: stage 7's Rust beside the C reference, piece by piece. A line
# diff of two languages says nothing, so each anchored piece of c-reference/taskmonitor.c
# (the ones the book shows) is printed in two columns beside the Rust that does the same,
# or, where a common/ wrapper does it for the Rust, with the name of that wrapper.
# Fails if an anchor of the table below is missing (make test runs it).
set -euo pipefail
cd "$(dirname "$0")/.."

c=c-reference/taskmonitor.c
rs=task7-multi/taskmonitor.rs

# C anchor, then the Rust pieces beside it (FILE:ANCHOR, comma-separated), or `-` and
# what does it in Rust. In the C file's order; the pieces nested in `module` (cache,
# pool, thread, shrinker_setup) are shown within it.
pairs="sample $rs:sample
task_monitor $rs:task_monitor
pool_size $rs:pool
get_sample common/src/task.rs:get_sample
release - Ref's Drop (common/src/refcount.rs) and FromPool (common/src/mempool.rs)
failed $rs:failed
save_sample $rs:save_sample
monitor_all $rs:monitor_all
sleep_until_next common/src/deadline.rs:next_deadline,common/src/kthread.rs:sleep_until_next,common/src/kthread.rs:sleep_until
monitor_fn $rs:monitor_fn
commands $rs:commands
show $rs:show,common/src/format.rs:fill_page
seq_ops $rs:seq_show,common/src/seq_file.rs:seq_ops
write - parse_command (common/src/command.rs) and write (common/src/debugfs.rs), for the SeqWrite impl in $rs:seq_show
fops - Fops and debugfs_fops! (common/src/debugfs.rs), open and release (common/src/seq_file.rs)
shrink $rs:shrink
exit_free - the drop of Monitors, the last reference to which is dropped in $rs:module
sizes $rs:sizes
module $rs:module"

# The lines between `ANCHOR: NAME` and `ANCHOR_END: NAME` of FILE, without the lines of
# nested anchors (as the book's includes show them) and trailing blank lines, tabs
# expanded.
piece() { # FILE NAME
  awk -v name="$2" '
    $0 ~ "ANCHOR_END: " name "( \\*/)?$" { inside = 0; found = 1 }
    inside && !/ANCHOR(_END)?: / { line[++n] = $0 }
    $0 ~ "ANCHOR: " name "( \\*/)?$" { inside = 1 }
    END {
      while (n > 0 && line[n] == "") n--
      for (i = 1; i <= n; i++) print line[i]
      exit !found
    }' "$1" | expand -t 8 || {
    echo "$1: no anchor $2" >&2
    return 1
  }
}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
status=0
while read -r name rust note; do
  piece "$c" "$name" >"$tmp/c" || { status=1; continue; }
  : >"$tmp/rust"
  if [ "$rust" = - ]; then
    echo "(in Rust: $note)" >"$tmp/rust"
  else
    for ref in ${rust//,/ }; do
      [ -s "$tmp/rust" ] && echo >>"$tmp/rust"
      echo "// ${ref%%:*}" >>"$tmp/rust"
      piece "${ref%%:*}" "${ref#*:}" >>"$tmp/rust" || status=1
    done
  fi
  # Wide enough for the longest line of either side: pr cuts what does not fit.
  half=$(cat "$tmp/c" "$tmp/rust" | awk '{ if (length > n) n = length } END { print n + 1 }')
  [ "$rust" = - ] && rust="(a common/ wrapper)"
  printf '\n==== %s: %s | %s ====\n' "$name" "${rust%%:*}" "$c"
  pr -m -t -w $((2 * half + 3)) -S' | ' "$tmp/rust" "$tmp/c" | expand -t 8 | sed 's/ *$//'
done <<<"$pairs"
exit "$status"
