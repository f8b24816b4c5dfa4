#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# `make book`: builds the book and fails on anything mdBook only warns about (a missing
# include or anchor would otherwise leave a hole in a chapter).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
log=$(mdbook build book 2>&1) || { echo "$log"; exit 1; }
if grep -E 'WARN|ERROR' <<<"$log"; then
  echo "book: mdBook reported problems" >&2
  exit 1
fi
if grep -rl '{{#' book/build --include='*.html' >/dev/null; then
  echo "book: unresolved mdBook directives in:" >&2
  grep -rl '{{#' book/build --include='*.html' >&2
  exit 1
fi
echo "book built in book/build (open book/build/index.html)"
