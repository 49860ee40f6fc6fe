#!/usr/bin/env bash
# Installs the Node.js of the current Active LTS line from the npm registry (the `node-<os>-<arch>`
# package the `node` package installs ships the official binary) into the cache, once, and prints
# the directory holding its `node` binary. CI's second leg runs on it (.ci/run); the project itself
# keeps working on Node 20 (package.json engines).
#   PATH="$(bash scripts/node-lts.sh):$PATH" node --version
# Env: SPACETIME_SYNC_CACHE (default ~/.cache/spacetime-sync).
set -euo pipefail

NODE_LTS_VERSION=26.10.0
CACHE="${SPACETIME_SYNC_CACHE:-$HOME/.cache/spacetime-sync}"
DIR="$CACHE/node/$NODE_LTS_VERSION"

if [[ ! -x "$DIR/bin/node" ]]; then
  platform="$(node -p 'process.platform + "-" + process.arch')"
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' EXIT
  echo "node-lts.sh: installing Node.js $NODE_LTS_VERSION (node-$platform) from the npm registry into $DIR" >&2
  (cd "$tmp" && npm pack --silent "node-$platform@$NODE_LTS_VERSION" >/dev/null)
  mkdir -p "$DIR.partial"
  tar -xzf "$tmp"/node-"$platform"-*.tgz -C "$DIR.partial" --strip-components=1
  "$DIR.partial/bin/node" --version >/dev/null
  rm -rf "$DIR"
  mv "$DIR.partial" "$DIR"
fi
echo "$DIR/bin"
