#!/usr/bin/env bash
# Real Prometheus and promtool from Debian's `prometheus` package, unpacked into the project's cache
# (no system service is installed or started; the package's static binaries are all we need).
#   scripts/prometheus.sh install     download the package with apt and unpack it into the cache (once)
#   scripts/prometheus.sh bin         print the directory holding `promtool` and `prometheus` (installs first)
#   scripts/prometheus.sh observe     a real Prometheus on loopback scraping the local service (`npm start`)
#                                     with the repo's alerting rules; prints its URL, runs until Ctrl-C
# Env: SPACETIME_SYNC_CACHE (default ~/.cache/spacetime-sync), SPACETIME_SYNC_URL (what `observe`
#      scrapes, default http://127.0.0.1:8080), PROMETHEUS_PORT (default 9090). See observability/README.md.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
CACHE="${SPACETIME_SYNC_CACHE:-$HOME/.cache/spacetime-sync}"
BASE="$CACHE/prometheus"
CURRENT="$BASE/current"

die() { echo "prometheus.sh: $*" >&2; exit 1; }

candidate() { apt-cache policy prometheus 2>/dev/null | awk '$1 == "Candidate:" { print $2 }'; }

install() {
  if [[ -x "$CURRENT/usr/bin/promtool" ]]; then
    echo "prometheus $(cat "$CURRENT/VERSION") already installed in $CURRENT/usr/bin"
    return
  fi
  command -v apt-get >/dev/null || die "apt-get not found (promtool comes from Debian's prometheus package)"
  local version; version="$(candidate)"
  if [[ -z "$version" || "$version" == "(none)" ]]; then
    # A fresh machine has no package lists yet.
    [[ "$(id -u)" == 0 ]] || die "no package list knows 'prometheus': run 'sudo apt-get update' first"
    echo "apt-get update (no package list knows 'prometheus' yet)"
    apt-get update -qq >/dev/null
    version="$(candidate)"
    [[ -n "$version" && "$version" != "(none)" ]] || die "Debian's package sources offer no 'prometheus' package"
  fi
  local dir="$BASE/$version" tmp
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' RETURN
  echo "downloading Debian's prometheus $version and unpacking it into $dir"
  # `apt-get download` fetches the .deb only: no dependencies, no postinst, no service.
  (cd "$tmp" && apt-get download -qq -o APT::Sandbox::User=root "prometheus=$version" >/dev/null) \
    || die "apt-get could not download prometheus=$version"
  rm -rf "$dir.partial"
  mkdir -p "$dir.partial"
  dpkg-deb -x "$tmp"/prometheus_*.deb "$dir.partial"
  "$dir.partial/usr/bin/promtool" --version >/dev/null 2>&1 || die "the unpacked promtool does not run"
  echo "$version" > "$dir.partial/VERSION"
  rm -rf "$dir"
  mv "$dir.partial" "$dir"
  ln -sfn "$version" "$CURRENT"
  echo "installed $("$CURRENT/usr/bin/promtool" --version 2>&1 | head -n 1)"
}

bin() {
  [[ -x "$CURRENT/usr/bin/promtool" ]] || install >&2
  echo "$CURRENT/usr/bin"
}

observe() {
  local target="${SPACETIME_SYNC_URL:-http://127.0.0.1:8080}" port="${PROMETHEUS_PORT:-9090}" data
  [[ "$target" =~ ^https?://([^/]+) ]] || die "SPACETIME_SYNC_URL '$target' is not an http(s) URL"
  local bindir; bindir="$(bin)"
  data="$(mktemp -d "${TMPDIR:-/tmp}/spacetime-sync-prometheus.XXXXXX")"
  cp "$ROOT/observability/alerts.yml" "$data/alerts.yml"
  sed -e "s|__TARGET__|${BASH_REMATCH[1]}|" -e "s|__SCHEME__|${target%%://*}|" \
    "$ROOT/observability/prometheus.yml" > "$data/prometheus.yml"
  "$bindir/promtool" check config "$data/prometheus.yml" >/dev/null || die "the generated configuration is invalid"
  echo "prometheus on http://127.0.0.1:$port scraping $target (alerts: http://127.0.0.1:$port/api/v1/alerts); data in $data"
  exec "$bindir/prometheus" --config.file="$data/prometheus.yml" --storage.tsdb.path="$data/tsdb" \
    --web.listen-address="127.0.0.1:$port" --log.level=warn
}

cmd="${1:-}"; shift || true
case "$cmd" in
  install) install ;;
  bin) bin ;;
  observe) observe ;;
  *) die "usage: scripts/prometheus.sh install|bin|observe" ;;
esac
