#!/usr/bin/env bash
# For the docker runner's tests: podman (whose `podman system service` speaks
# the Docker Engine API; the tests start their own), runc, debootstrap, and
# the test runner image, each only when missing. A fresh machine pays about
# 2 minutes once (apt ~20 s, the image ~1.5 min); later runs take a second.
set -euo pipefail
cd "$(dirname "$0")/.."
log() { printf '\033[1m[setup]\033[0m %s\n' "$*" >&2; }
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
# Keep in step with TEST_RUNNER_IMAGE in test/support/podman.ts; bump the tag when the recipe changes.
image=${SCRAPYDD_TEST_RUNNER_IMAGE:-localhost/scrapydd-runner:test-1}

if ! command -v podman >/dev/null || ! command -v runc >/dev/null || ! command -v debootstrap >/dev/null; then
  log "installing podman, runc and debootstrap"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq podman runc debootstrap >/dev/null
fi
if ! $SUDO podman image exists "$image"; then
  log "building the test runner image $image (debootstrap, about 1.5 minutes)"
  bash scripts/build-runner-image.sh "$image"
fi
