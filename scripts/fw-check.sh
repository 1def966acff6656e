#!/usr/bin/env bash
# Builds the no_std firmware (firmware/: emv-kernel, one full recorded EMV
# contact transaction, no allocator) for the Cortex-M4F and runs it under
# QEMU mps2-an386. Two checks:
#   transaction  the kernel reaches OnlineApproved over the recording
#                (firmware exit status 0 or 3)
#   budget       size_of::<Transaction>() + peak stack < 16 KiB
#                (exit status 0; 3 = over budget)
# Needs root for the package installs (skipped when already installed).
# Usage: scripts/fw-check.sh [FIRMWARE_DIR]   (default: firmware/ next to this script)
set -euo pipefail
FW=${1:-$(cd "$(dirname "$0")/.." && pwd)/firmware}
TARGET=thumbv7em-none-eabihf
BIN=emv-firmware

add_bookworm_backports() {
  # bookworm-backports suite of Debian's archive, same mirror as the image's APT sources (or DEBIAN_MIRROR)
  local mirror=${DEBIAN_MIRROR:-}
  if [ -z "$mirror" ]; then
    mirror=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources 2>/dev/null \
      | grep -hoE '^(deb|URIs:)[[:space:]]+(\[[^]]*\][[:space:]]+)?[a-z]+://[^[:space:]]+' \
      | awk '{print $NF}' | grep -E '/debian/?$' | head -n1 || true)
  fi
  [ -n "$mirror" ] || { echo "add_bookworm_backports: set DEBIAN_MIRROR" >&2; return 1; }
  echo "deb $mirror bookworm-backports main" > /etc/apt/sources.list.d/bookworm-backports.list
}
dpkg-query -W -f='${Status}' qemu-system-arm 2>/dev/null | grep -q 'install ok installed' || {
  # Debian 12's qemu-system-arm 7.2 conflicts with the qemu-utils 10.0 (bookworm-backports) on the CI image:
  # take qemu-system-arm from bookworm-backports too, so qemu-utils stays.
  add_bookworm_backports
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends -t bookworm-backports qemu-system-arm >/dev/null
}
command -v arm-none-eabi-size >/dev/null || {
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends binutils-arm-none-eabi >/dev/null
}
rustup target add "$TARGET" >/dev/null 2>&1 || true
rustup target list --installed 2>/dev/null | grep -qx "$TARGET" || {
  echo "fw-check: Rust target $TARGET is missing and could not be installed (rustup target add $TARGET)" >&2
  exit 2
}

cd "$FW"
pass=0; fail=0
ok()  { echo "ok:   $1"; pass=$((pass+1)); }
bad() { echo "FAIL: $1"; fail=$((fail+1)); }

# .cargo/config.toml in firmware/ selects the target and the QEMU runner.
cargo build --release -q
ELF=target/$TARGET/release/$BIN
arm-none-eabi-size "$ELF"

# The runner of .cargo/config.toml, called directly to time QEMU alone.
t0=$(date +%s.%N)
rc=0
timeout 120 qemu-system-arm -cpu cortex-m4 -machine mps2-an386 -nographic -monitor none \
  -semihosting-config enable=on,target=native -kernel "$ELF" </dev/null || rc=$?
t1=$(date +%s.%N)
echo "fw-check: QEMU exit status $rc, wall time $(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.3f", b-a}') s"

case $rc in
  0|3) ok "transaction: OnlineApproved on $TARGET (mps2-an386)" ;;
  124) bad "transaction: QEMU timed out after 120 s" ;;
  *)   bad "transaction: exit status $rc (1 = panic, 2 = wrong outcome or left the recording)" ;;
esac
case $rc in
  0) ok "budget: Transaction state + peak stack < 16384 bytes" ;;
  3) bad "budget: Transaction state + peak stack >= 16384 bytes (see the fw: lines above)" ;;
  *) bad "budget: not measured (exit status $rc)" ;;
esac

echo "firmware: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
