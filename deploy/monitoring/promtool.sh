#!/bin/sh
# promtool from Debian's `prometheus` package: the one on PATH if installed, else the package's files unpacked
# into .cache/prometheus (apt-get download + dpkg -x: no Prometheus daemon is installed or started).
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
DIR="$ROOT/.cache/prometheus"
if command -v promtool >/dev/null 2>&1; then
    exec promtool "$@"
fi
if [ ! -x "$DIR/usr/bin/promtool" ]; then
    rm -rf "$DIR/download" && mkdir -p "$DIR/download"
    (cd "$DIR/download" && { apt-get download prometheus 2>/dev/null \
        || { apt-get update -qq && apt-get download prometheus; }; })
    dpkg -x "$DIR"/download/prometheus_*.deb "$DIR"
    rm -rf "$DIR/download"
fi
exec "$DIR/usr/bin/promtool" "$@"
