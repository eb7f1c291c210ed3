#!/usr/bin/env bash
# Makes podman usable here and builds the Debian base image the project's images start from.
# Idempotent and quick after the first run: installs podman/runc/debootstrap from Debian if missing, and builds
# localhost/debian-base:bookworm with debootstrap only when podman does not have it yet (no registry is needed).
# Callers export CONTAINERS_CONF=deploy/containers/containers.conf (printed at the end).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
export CONTAINERS_CONF="$here/containers.conf"
BASE_IMAGE="${BASE_IMAGE:-localhost/debian-base:bookworm}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

if ! command -v podman >/dev/null || ! command -v runc >/dev/null || ! command -v debootstrap >/dev/null; then
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -qq
    $SUDO apt-get install -y -qq podman runc debootstrap >/dev/null
fi

if ! podman image exists "$BASE_IMAGE"; then
    # The mirror apt already uses on this machine (never written into the project).
    mirror="$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)"
    mirror="${mirror:-http://deb.debian.org/debian}"
    rootfs="$(mktemp -d)"
    trap '$SUDO rm -rf "$rootfs"' EXIT
    echo "building $BASE_IMAGE with debootstrap from $mirror (about 30 s, once)"
    $SUDO debootstrap --variant=minbase bookworm "$rootfs" "$mirror" >/dev/null
    $SUDO tar -C "$rootfs" -c . | podman import - "$BASE_IMAGE" >/dev/null
fi
echo "podman ready; base image $BASE_IMAGE; export CONTAINERS_CONF=$CONTAINERS_CONF"
