#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Writes the diff to the previous stage into each stage's README, between the lines
# `<!-- ANCHOR: diff -->` and `<!-- ANCHOR_END: diff -->` (the book includes it from there),
# fenced as ```diff and byte for byte what `./scripts/stage-diff.sh --code N-1 N` prints.
# With --check, only reports READMEs that are out of date (make test runs this).
# Either way it then proves each README's diff is the stage's change: extracted from the
# README and applied with patch to a copy of stage N-1, it must give exactly stage N
# (READMEs and build outputs aside, as in `make diff`).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/stage-excludes.sh
check=0
[ "${1:-}" = "--check" ] && check=1
command -v patch >/dev/null || { echo "patch is missing (scripts/setup.sh installs it)" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

anchor='<!-- ANCHOR: diff -->'
anchor_end='<!-- ANCHOR_END: diff -->'

# render keeps what is outside the anchors, so there must be exactly one pair, in order.
anchored() { # README
  awk -v a="$anchor" -v e="$anchor_end" '
    $0 == a { na++ }
    $0 == e { ne++; if (!na) bad = 1 }
    END { exit !(na == 1 && ne == 1 && !bad) }' "$1"
}

# The diff goes through a file and is copied line for line: passing it to awk with -v
# turned every `\n` of a Rust string into a real newline.
render() { # README diff-file: the README with diff-file between the anchors
  sed -n "1,/^$anchor\$/p" "$1"
  printf '%s\n' '```diff'
  cat "$2"
  printf '%s\n' '```'
  sed -n "/^$anchor_end\$/,\$p" "$1"
}

extract() { # README: the fenced diff between the anchors, as the reader sees it
  awk -v a="$anchor" -v e="$anchor_end" '
    $0 == e { inside = 0 }
    inside { line[++n] = $0 }
    $0 == a { inside = 1 }
    END {
      if (n < 2 || line[1] != "```diff" || line[n] != "```") {
        print FILENAME ": the lines between the diff anchors are not one ```diff block" > "/dev/stderr"
        exit 1
      }
      for (i = 2; i < n; i++) print line[i]
    }' "$1"
}

# Comparing with a fresh render is not enough: a bug of render is in both (the `\n` one,
# from awk -v, was). So the README's own diff must turn stage N-1 into stage N, with no
# fuzz, so a changed context line fails too; -E removes the files the diff deletes
# (their headers carry no timestamp to say so); rejects and backups are not wanted.
roundtrip() { # README FROM-DIR TO-DIR
  local copy="$tmp/patched/$2"
  rm -rf "$tmp/patched" && mkdir "$tmp/patched" && cp -a "$2" "$copy"
  extract "$1" >"$tmp/readme.diff" || return 1
  if ! patch -p1 -d "$copy" --force --fuzz=0 -E --no-backup-if-mismatch -r - \
      <"$tmp/readme.diff" >"$tmp/patch.out" 2>&1; then
    echo "$1: its diff does not apply to $2 with patch:" >&2
    # Only the file a problem is in; patch counts lines of the diff, which starts two lines
    # below the anchor.
    awk -v off="$(grep -nxF "$anchor" "$1" | cut -d: -f1)" '
      /^patching file / { file = $0; next }
      file != "" { print file; file = "" }
      match($0, /at line [0-9]+/) { $0 = $0 " (README line " substr($0, RSTART + 8, RLENGTH - 8) + off + 1 ")" }
      { print }' "$tmp/patch.out" | head -n 6 >&2
    return 1
  fi
  if ! diff -ru "${stage_excludes[@]}" -x README.md "$copy" "$3" >"$tmp/rest.diff"; then
    echo "$1: its diff applied to $2 does not give $3; the first difference (--- patched $2, +++ $3):" >&2
    sed -E -e '/^diff -ru /d' -e "s|$tmp/patched/||" -e 's/^(---|\+\+\+) ([^\t]+)\t.*/\1 \2/' \
      "$tmp/rest.diff" | head -n 12 >&2
    return 1
  fi
}

failed=0
prev=""
prev_dir=""
for dir in $(ls -d task[0-9]-* | sort); do
  n=${dir#task}
  n=${n%%-*}
  if [ -n "$prev" ]; then
    readme="$dir/README.md"
    anchored "$readme" || { echo "$readme: needs one line $anchor and, after it, one line $anchor_end" >&2; exit 1; }
    ./scripts/stage-diff.sh --code "$prev" "$n" >"$tmp/stage.diff"
    render "$readme" "$tmp/stage.diff" >"$tmp/README.md"
    if ! cmp -s "$tmp/README.md" "$readme"; then
      if [ "$check" -eq 1 ]; then
        echo "$readme: the diff to stage $prev is out of date (run: make readmes); the first difference:" >&2
        { diff -U0 --label "$readme" --label "make readmes" "$readme" "$tmp/README.md" || true; } |
          sed '1,2d' | head -n 6 >&2
        failed=1
      else
        cat "$tmp/README.md" >"$readme"
        echo "updated $readme"
      fi
    fi
    roundtrip "$readme" "$prev_dir" "$dir" || failed=1
  fi
  prev=$n
  prev_dir=$dir
done
exit "$failed"
