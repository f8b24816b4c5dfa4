#!/usr/bin/env bash
# Writes the diff to the previous stage into each stage's README, between the lines
# `<!-- ANCHOR: diff -->` and `<!-- ANCHOR_END: diff -->` (the book includes it from there).
# With --check, only reports READMEs that are out of date (make test runs this).
set -euo pipefail
cd "$(dirname "$0")/.."
check=0
[ "${1:-}" = "--check" ] && check=1
stale=0
prev=""
for dir in $(ls -d task[0-9]-* | sort); do
  n=${dir#task}
  n=${n%%-*}
  if [ -n "$prev" ]; then
    readme="$dir/README.md"
    grep -q '^<!-- ANCHOR: diff -->$' "$readme" || { echo "$readme: no diff anchor" >&2; exit 1; }
    new=$(awk -v diff="$(./scripts/stage-diff.sh --code "$prev" "$n")" '
      /^<!-- ANCHOR: diff -->$/ { print; print "```diff"; print diff; print "```"; skip = 1; next }
      /^<!-- ANCHOR_END: diff -->$/ { skip = 0 }
      !skip { print }' "$readme")
    if [ "$new" != "$(cat "$readme")" ]; then
      if [ "$check" -eq 1 ]; then
        echo "$readme: the diff to stage $prev is out of date (run: make readmes)" >&2
        stale=1
      else
        printf '%s\n' "$new" >"$readme"
        echo "updated $readme"
      fi
    fi
  fi
  prev=$n
done
exit "$stale"
