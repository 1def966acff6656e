#!/usr/bin/env bash
# Start, stop or query a pcscd with vsmartcard's vpcd reader ("Virtual PCD 00 00" on TCP
# 35963, "Virtual PCD 00 01" on 35964), for tests that plug simulated cards in
# (emv_test_cards::vpcd::VpcdServer). No systemd needed; safe to call from .ci/run.
#
# Usage: scripts/pcscd.sh start|stop|status
#   start   start `pcscd --foreground` in the background and wait (bounded) until the vpcd
#           reader is listed. Idempotent: succeeds at once if our pcscd already runs, and
#           uses a pcscd someone else started if it already lists the vpcd reader.
#   stop    stop the pcscd that `start` started (by its PID only) and wait for it to exit.
#           Idempotent; never touches a pcscd this script did not start.
#   status  exit 0 and print the readers if a usable pcscd runs, exit 3 otherwise.
#
# Environment:
#   PCSCD_STATE_DIR   where the PID file and log go (default ${TMPDIR:-/tmp})
#   PCSCD_DEBUG=1     start pcscd with --debug --apdu (verbose log)
#   PCSCD_WAIT        seconds to wait for the reader (default 10)
#
# Needs root, or a /run/pcscd directory writable by the caller (pcscd creates its socket
# and PID file there). Packages: pcscd vsmartcard-vpcd pcsc-tools (libpcsclite-dev to
# build the Rust pcsc crate).
set -euo pipefail

STATE_DIR=${PCSCD_STATE_DIR:-${TMPDIR:-/tmp}}
PID_FILE=$STATE_DIR/emv-pcscd.pid
LOG_FILE=$STATE_DIR/emv-pcscd.log
WAIT=${PCSCD_WAIT:-10}
RUN_DIR=/run/pcscd
SOCKET=$RUN_DIR/pcscd.comm
READER="Virtual PCD 00 00"
VPCD_DRIVER=/usr/lib/pcsc/drivers/serial/libifdvpcd.so
INSTALL_HINT="install: apt-get install pcscd vsmartcard-vpcd pcsc-tools libpcsclite-dev"

say() { printf 'pcscd.sh: %s\n' "$*"; }
die() { printf 'pcscd.sh: %s\n' "$*" >&2; exit 1; }

# PID of the pcscd this script started, if it is still alive (empty otherwise).
our_pid() {
  local pid
  [ -f "$PID_FILE" ] || return 0
  pid=$(tr -dc '0-9' < "$PID_FILE")
  if [ -n "$pid" ] && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = pcscd ]; then
    echo "$pid"
  fi
}

# PID of any live pcscd owning /run/pcscd (its PID file ends with a NUL byte).
system_pid() {
  local pid
  [ -f "$RUN_DIR/pcscd.pid" ] || return 0
  pid=$(tr -dc '0-9' < "$RUN_DIR/pcscd.pid")
  if [ -n "$pid" ] && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = pcscd ]; then
    echo "$pid"
  fi
}

# The reader list as pcsc_scan sees it (empty if pcscd does not answer).
readers() {
  timeout 5 pcsc_scan -r 2>/dev/null | sed -n 's/^[0-9][0-9]*: //p' || true
}

# (captured first: `readers | grep -q` could kill the producer with SIGPIPE under pipefail)
has_reader() {
  local list
  list=$(readers)
  grep -qxF "$READER" <<< "$list"
}

# Wait up to $WAIT seconds until the vpcd reader is listed; fails early if pid $1 dies.
wait_ready() {
  local pid=$1 deadline=$((SECONDS + WAIT))
  while ((SECONDS < deadline)); do
    if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then
      say "pcscd (pid $pid) exited during start-up; last log lines:" >&2
      tail -n 20 "$LOG_FILE" >&2 || true
      return 1
    fi
    if [ -S "$SOCKET" ] && has_reader; then
      return 0
    fi
    sleep 0.1
  done
  say "reader '$READER' not listed after ${WAIT}s; readers: [$(readers | paste -sd, -)]" >&2
  tail -n 20 "$LOG_FILE" >&2 || true
  return 1
}

cmd_start() {
  local pid
  command -v pcscd > /dev/null || die "pcscd not found; $INSTALL_HINT"
  command -v pcsc_scan > /dev/null || die "pcsc_scan not found; $INSTALL_HINT"
  [ -e "$VPCD_DRIVER" ] || die "vpcd driver $VPCD_DRIVER not found; $INSTALL_HINT"

  pid=$(our_pid)
  if [ -n "$pid" ]; then
    wait_ready "$pid" || die "pcscd (pid $pid, started earlier) runs but is not usable"
    say "already running (pid $pid), reader '$READER' ready"
    return 0
  fi
  rm -f "$PID_FILE"

  pid=$(system_pid)
  if [ -n "$pid" ]; then
    if has_reader; then
      say "using the pcscd already running (pid $pid, not started by this script); reader '$READER' ready"
      return 0
    fi
    die "a pcscd not started by this script runs (pid $pid) without the vpcd reader; stop it first"
  fi

  if ! mkdir -p "$RUN_DIR" 2>/dev/null || [ ! -w "$RUN_DIR" ]; then
    die "$RUN_DIR is not writable: run as root, or have root run 'mkdir -p $RUN_DIR && chown $(id -un) $RUN_DIR'"
  fi
  mkdir -p "$STATE_DIR"

  local args=(--foreground)
  [ "${PCSCD_DEBUG:-0}" = 1 ] && args+=(--debug --apdu)
  # --foreground: no fork, so $! is pcscd itself. No --auto-exit: it would quit after 60 s
  # without clients.
  pcscd "${args[@]}" < /dev/null > "$LOG_FILE" 2>&1 &
  pid=$!
  echo "$pid" > "$PID_FILE"
  if ! wait_ready "$pid"; then
    cmd_stop > /dev/null 2>&1 || true
    die "pcscd did not become ready (log: $LOG_FILE)"
  fi
  say "started pcscd (pid $pid, log $LOG_FILE), reader '$READER' ready"
}

cmd_stop() {
  local pid i
  pid=$(our_pid)
  if [ -z "$pid" ]; then
    rm -f "$PID_FILE"
    say "not running (nothing started by this script)"
    return 0
  fi
  kill -TERM "$pid" 2>/dev/null || true
  # pcscd takes ~2-3 s to exit on SIGTERM.
  for i in $(seq 1 100); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    say "pcscd (pid $pid) ignored SIGTERM for 10 s; sending SIGKILL" >&2
    kill -KILL "$pid" 2>/dev/null || true
    # A restart before the old PID is gone fails ("Another pcscd seems to be running").
    for i in $(seq 1 50); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
  fi
  kill -0 "$pid" 2>/dev/null && die "pcscd (pid $pid) did not exit"
  rm -f "$PID_FILE"
  say "stopped pcscd (pid $pid)"
}

cmd_status() {
  local pid owner=ours
  pid=$(our_pid)
  if [ -z "$pid" ]; then
    pid=$(system_pid)
    owner="not started by this script"
  fi
  if [ -z "$pid" ]; then
    say "not running"
    return 3
  fi
  say "running (pid $pid, $owner); readers:"
  readers | sed 's/^/  /'
  has_reader || { say "reader '$READER' missing"; return 3; }
}

case "${1:-}" in
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  *)
    echo "usage: $0 start|stop|status" >&2
    exit 2
    ;;
esac
