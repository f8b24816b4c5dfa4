#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Builds the test kernel once and reuses it: prints the prepared tree (KDIR) on stdout.
#
#   scripts/kernel.sh          the test kernel (kernel/taskmonitor.config)
#   scripts/kernel.sh kasan    the same plus generic KASAN (kernel/kasan.config)
#   scripts/kernel.sh bench    the same without the debugging options, for `make bench`
#                              (kernel/bench.config)
#
# The tree lives in a cache outside the repository, keyed by the kernel source version,
# the config fragment, this script and the toolchain, so another clone, CI on the same
# machine and a second run all reuse it. Progress goes to stderr.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
variant=${1:-}
fragments=("$root/kernel/taskmonitor.config")
case "$variant" in
  "") ;;
  kasan | bench) fragments+=("$root/kernel/$variant.config") ;;
  *) echo "usage: $0 [kasan|bench]" >&2; exit 2 ;;
esac
tarball=/usr/src/linux-source-6.12.tar.xz
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"

say() { printf '[kernel] %s\n' "$*" >&2; }

source_version=$(dpkg-query -W -f='${Version}' linux-source-6.12)
key=$( {
  echo "$source_version"
  rustc --version
  clang-19 --version | head -n 1
  bindgen --version
  cat "${fragments[@]}" "$0"
} | sha256sum | cut -c 1-12)
cache=${TASKMONITOR_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/taskmonitor}
kdir="$cache/linux-${source_version//[^A-Za-z0-9.+-]/_}-${variant:+$variant-}$key"

mkdir -p "$cache"
exec 9>"$kdir.lock"
flock 9 # one build at a time; a waiting run reuses the finished tree

if [ -f "$kdir/.taskmonitor-ready" ]; then
  echo "$kdir"
  exit 0
fi

start=$(date +%s)
say "building Linux $source_version into $kdir"
say "this happens once per kernel/config/toolchain and takes about 4 minutes on 2 cores${variant:+ (more with $variant)}"
rm -rf "$kdir"
mkdir -p "$kdir"
tar -xJf "$tarball" -C "$kdir" --strip-components=1

kmake() { make -C "$kdir" ARCH=x86_64 LLVM=-19 "$@"; }
log="$kdir/build.log"
{
  kmake tinyconfig
  "$kdir/scripts/kconfig/merge_config.sh" -m -O "$kdir" "$kdir/.config" "${fragments[@]}"
  kmake olddefconfig
} >"$log" 2>&1

# Every option of the fragments must have its value after olddefconfig (a missing
# dependency silently drops an option). A later fragment's line overrides an earlier one
# for the same option, as in merge_config.sh.
missing=0
declare -A wanted=()
while IFS= read -r line; do
  case "$line" in
    CONFIG_*=*) wanted[${line%%=*}]=$line ;;
    "# CONFIG_"*" is not set") name=${line#\# }; wanted[${name%% *}]=$line ;;
  esac
done < <(cat "${fragments[@]}")
for name in "${!wanted[@]}"; do
  line=${wanted[$name]}
  case "$line" in
    CONFIG_*) grep -qx "$line" "$kdir/.config" || { say "not set: $line"; missing=1; } ;;
    *) grep -q "^$name=" "$kdir/.config" && { say "not unset: $line"; missing=1; } ;;
  esac
done
[ "$missing" -eq 0 ] || { say "config fragment not applied, see $kdir/.config"; exit 1; }

kmake -j"$(nproc)" bzImage modules >>"$log" 2>&1 &
build=$!
while kill -0 "$build" 2>/dev/null; do
  sleep 30
  kill -0 "$build" 2>/dev/null || break
  say "still building: $(grep -c '^  [A-Z]' "$log") steps done, $(( $(date +%s) - start )) s elapsed"
done
if ! wait "$build"; then
  tail -n 40 "$log" >&2
  say "kernel build failed, full log: $log"
  exit 1
fi
# usr/gen_init_cpio builds the VM's initramfs.
kmake usr/gen_init_cpio >>"$log" 2>&1 || make -C "$kdir/usr" gen_init_cpio >>"$log" 2>&1
touch "$kdir/.taskmonitor-ready"
say "kernel ready in $(( $(date +%s) - start )) s"
echo "$kdir"
