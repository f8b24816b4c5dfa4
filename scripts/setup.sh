#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Idempotent set-up for `make demo` and `make test`: installs only what is missing.
set -euo pipefail

# patch: scripts/stage-readmes.sh applies each README's diff (diff itself is essential).
# chromium and python3: scripts/book-check.py renders every page of the built book.
APT_PACKAGES=(clang-19 lld-19 llvm-19 libclang-19-dev flex bison bc libelf-dev libssl-dev
  cpio xz-utils qemu-system-x86 busybox-static linux-source-6.12 make patch chromium python3)
BINDGEN_VERSION=0.69.5
MDBOOK_VERSION=0.5.4
MDBOOK_LINKCHECK2_VERSION=0.13.0
CARGO_FUZZ_VERSION=0.13.2

say() { printf '[setup] %s\n' "$*"; }

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    say "missing Debian packages: ${missing[*]}"
    say "run as root, or: sudo apt-get install ${missing[*]}"
    exit 1
  fi
  say "installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if ! rustup component list --installed 2>/dev/null | grep -q '^rust-src'; then
  say "adding rustup component rust-src"
  rustup component add rust-src
fi

# Miri checks the unsafe code of the pure logic (common/src/list.rs) on the host; it
# only exists for nightly, which the machine image carries.
if ! rustup +nightly component list --installed 2>/dev/null | grep -q '^miri'; then
  say "adding miri and rust-src to the nightly toolchain"
  rustup component add --toolchain nightly miri rust-src
fi

cargo_bin="${CARGO_HOME:-$HOME/.cargo}/bin"
if ! "$cargo_bin/bindgen" --version 2>/dev/null | grep -q "$BINDGEN_VERSION"; then
  say "installing bindgen-cli $BINDGEN_VERSION (about 2 minutes)"
  cargo install --locked --quiet bindgen-cli --version "$BINDGEN_VERSION"
fi
if ! "$cargo_bin/mdbook" --version 2>/dev/null | grep -q "v$MDBOOK_VERSION"; then
  say "installing mdbook $MDBOOK_VERSION (about 2 minutes)"
  cargo install --locked --quiet mdbook --version "$MDBOOK_VERSION"
fi
# mdbook-linkcheck2 checks the book's links and images (scripts/book.sh); the original
# mdbook-linkcheck does not work with mdBook 0.5.
if ! "$cargo_bin/mdbook-linkcheck2" --version 2>/dev/null | grep -q " $MDBOOK_LINKCHECK2_VERSION\$"; then
  say "installing mdbook-linkcheck2 $MDBOOK_LINKCHECK2_VERSION (about 2 minutes)"
  cargo install --locked --quiet mdbook-linkcheck2 --version "$MDBOOK_LINKCHECK2_VERSION"
fi
# cargo-fuzz drives the libFuzzer targets in fuzz/ (scripts/fuzz.sh); it runs them with
# nightly, but installs with any toolchain.
if ! "$cargo_bin/cargo-fuzz" --version 2>/dev/null | grep -q " $CARGO_FUZZ_VERSION"; then
  say "installing cargo-fuzz $CARGO_FUZZ_VERSION (under a minute)"
  cargo install --locked --quiet cargo-fuzz --version "$CARGO_FUZZ_VERSION"
fi
say "tools ready"
