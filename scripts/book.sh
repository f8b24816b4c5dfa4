#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# `make book`: builds the book and fails on anything mdBook only warns about (a missing
# include or anchor would otherwise leave a hole in a chapter), then checks it as a reader
# sees it: links, images, and every page rendered in a browser.
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

# Every link and image of the sources resolves (mdbook-linkcheck2, on the Markdown), and
# the built book works as a reader gets it: every link and resource of every page
# resolves, and every page renders in headless Chromium with no console error and every
# image loaded (scripts/book-check.py).
RUST_BACKTRACE=0 mdbook-linkcheck2 --standalone --colour never book
python3 scripts/book-check.py book/build
