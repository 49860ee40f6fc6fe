#!/usr/bin/env bash
# Centrifugo for `npm run bench:peers` only (not CI): `bash scripts/centrifugo.sh install` builds the
# pinned version from the Go module proxy into the cache (once) and prints the binary's path.
set -euo pipefail
VERSION=v6.9.1
CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/spacetime-sync/centrifugo-$VERSION"
BIN="$CACHE/centrifugo"
case "${1:-}" in
  install)
    if [[ ! -x "$BIN" ]]; then
      command -v go >/dev/null || { echo "centrifugo.sh: Go is needed to build Centrifugo $VERSION" >&2; exit 3; }
      mkdir -p "$CACHE"
      echo "building Centrifugo $VERSION into $CACHE (go install; a few minutes the first time)" >&2
      GOBIN="$CACHE" go install "github.com/centrifugal/centrifugo/v6@$VERSION" >&2
    fi
    echo "$BIN"
    ;;
  --help | -h | help | "")
    echo "usage: bash scripts/centrifugo.sh install   # prints the path of Centrifugo $VERSION, building it once"
    ;;
  *)
    echo "centrifugo.sh: unknown command '$1' (try --help)" >&2
    exit 2
    ;;
esac
