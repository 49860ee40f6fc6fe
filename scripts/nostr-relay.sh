#!/usr/bin/env bash
# A real Nostr relay on loopback for development and tests (rust-nostr's relay, see scripts/nostr-relay.md).
#   scripts/nostr-relay.sh install                 build the relay from crates.io into the cache (once per source change)
#   scripts/nostr-relay.sh start [--data D] [--port P] [--owner HEX]
#                                                  start it; prints NOSTR_RELAY=ws://127.0.0.1:PORT
#   scripts/nostr-relay.sh stop  [--data D]        stop the relay started with that data dir
#   scripts/nostr-relay.sh status [--data D]
# --owner HEX: the relay accepts only events by (or tagging) that public key and refuses the rest with
# `OK false "blocked: …"` — a refusing relay for tests. Events live in memory: a restart starts empty.
# Env: SPACETIME_SYNC_CACHE (default ~/.cache/spacetime-sync), NOSTR_RELAY_START_TIMEOUT (s, default 30).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
SRC="$HERE/nostr-relay"
CACHE="${SPACETIME_SYNC_CACHE:-$HOME/.cache/spacetime-sync}"
# The build is keyed by its sources: editing them (or the lock file) builds again.
KEY="$(cat "$SRC/Cargo.toml" "$SRC/Cargo.lock" "$SRC/src/main.rs" | sha256sum | cut -c1-16)"
BIN_DIR="$CACHE/nostr-relay/$KEY"
BIN="$BIN_DIR/spacetime-sync-nostr-relay"

die() { echo "nostr-relay.sh: $*" >&2; exit 1; }

install() {
  if [[ -x "$BIN" ]]; then
    echo "nostr relay already built in $BIN_DIR"
    return
  fi
  command -v cargo >/dev/null || die "cargo not found (the relay is built from crates.io with Rust 1.70+)"
  echo "building the nostr relay (nostr-relay-builder from crates.io) into $BIN_DIR"
  local started; started=$(date +%s)
  cargo build --release --locked --quiet --manifest-path "$SRC/Cargo.toml" \
    --target-dir "$CACHE/nostr-relay/target" || die "cargo could not build the relay"
  mkdir -p "$BIN_DIR"
  cp "$CACHE/nostr-relay/target/release/spacetime-sync-nostr-relay" "$BIN.partial"
  mv "$BIN.partial" "$BIN"
  echo "built in $(( $(date +%s) - started ))s"
}

DIR=""; PORT=""; OWNER=""
parse() {
  DIR="$CACHE/nostr-relay/run"
  while [[ $# -gt 0 ]]; do
    case "$1" in
      --data) DIR="$2"; shift 2 ;;
      --port) PORT="$2"; shift 2 ;;
      --owner) OWNER="$2"; shift 2 ;;
      *) die "unknown option $1" ;;
    esac
  done
  mkdir -p "$DIR"
  DIR="$(cd "$DIR" && pwd)"
}

free_port() {
  node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}

is_running() { [[ -f "$DIR/relay.pid" ]] && kill -0 "$(cat "$DIR/relay.pid")" 2>/dev/null; }

start() {
  parse "$@"
  [[ -x "$BIN" ]] || install
  if is_running; then
    echo "NOSTR_RELAY=ws://127.0.0.1:$(cat "$DIR/relay.port")"
    return
  fi
  local port="${PORT:-$(free_port)}"
  local args=(--port "$port")
  [[ -n "$OWNER" ]] && args+=(--owner "$OWNER")
  : > "$DIR/relay.out"
  nohup "$BIN" "${args[@]}" > "$DIR/relay.out" 2>&1 &
  echo $! > "$DIR/relay.pid"
  echo "$port" > "$DIR/relay.port"
  local deadline=$(( $(date +%s) + ${NOSTR_RELAY_START_TIMEOUT:-30} ))
  # The relay prints its address once it is bound and accepting.
  until grep -q '^NOSTR_RELAY=' "$DIR/relay.out" 2>/dev/null; do
    if ! is_running; then
      cat "$DIR/relay.out" >&2 || true
      die "the relay exited during startup"
    fi
    if (( $(date +%s) > deadline )); then
      stop --data "$DIR" >/dev/null 2>&1 || true
      die "the relay did not come up within ${NOSTR_RELAY_START_TIMEOUT:-30}s"
    fi
    sleep 0.1
  done
  echo "NOSTR_RELAY=ws://127.0.0.1:$port"
}

stop() {
  parse "$@"
  if ! is_running; then
    rm -f "$DIR/relay.pid"
    echo "nostr relay not running ($DIR)"
    return
  fi
  local pid; pid="$(cat "$DIR/relay.pid")"
  kill -TERM "$pid"
  for _ in $(seq 1 50); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
  rm -f "$DIR/relay.pid"
  echo "nostr relay stopped ($DIR)"
}

status() {
  parse "$@"
  if is_running; then echo "running: NOSTR_RELAY=ws://127.0.0.1:$(cat "$DIR/relay.port") (pid $(cat "$DIR/relay.pid"))"
  else echo "not running ($DIR)"; return 1; fi
}

cmd="${1:-}"; shift || true
case "$cmd" in
  install) install ;;
  start) start "$@" ;;
  stop) stop "$@" ;;
  status) status "$@" ;;
  *) die "usage: scripts/nostr-relay.sh install|start|stop|status [--data DIR] [--port P] [--owner HEX]" ;;
esac
