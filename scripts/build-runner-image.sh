#!/usr/bin/env bash
# Builds a runner image for runner_type = docker without a registry: a Debian
# bookworm root filesystem with Debian's Scrapy and pip, made by debootstrap
# from a Debian mirror, imported into podman (or docker) under the given name.
# With a registry at hand, deploy/runner.Containerfile makes the same image.
#   scripts/build-runner-image.sh IMAGE     e.g. localhost/scrapydd-runner:bookworm
# DEBIAN_MIRROR overrides http://deb.debian.org/debian; CONTAINER_TOOL picks
# podman (default, when installed) or docker. Takes about 1.5 minutes.
set -euo pipefail
image=${1:?usage: build-runner-image.sh IMAGE}
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
tool=${CONTAINER_TOOL:-$(command -v podman >/dev/null && echo podman || echo docker)}
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"

work=$(mktemp -d /var/tmp/scrapydd-rootfs.XXXXXX)
trap '$SUDO rm -rf "$work"' EXIT
# python3-cffi-backend by name: debootstrap does not resolve the virtual
# packages python3-cryptography depends on, and would leave Scrapy unconfigured.
$SUDO debootstrap --variant=minbase --include=python3-scrapy,python3-pip,python3-cffi-backend \
  bookworm "$work/root" "$mirror" >"$work/debootstrap.log" 2>&1 ||
  { tail -n 30 "$work/debootstrap.log" >&2; exit 1; }
$SUDO chroot "$work/root" python3 -c 'import scrapy, pip' ||
  { echo "build-runner-image: Scrapy is not importable in the image" >&2; exit 1; }
$SUDO rm -rf "$work"/root/var/cache/apt/archives/*.deb "$work"/root/var/lib/apt/lists/*
$SUDO tar -C "$work/root" -c . | $SUDO "$tool" import --change 'CMD ["python3"]' - "$image" >/dev/null
echo "built $image"
