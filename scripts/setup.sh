#!/usr/bin/env bash
# Installs what scrapydd needs on a fresh Debian machine, idempotently:
# Debian's Scrapy for /usr/bin/python3, npm dependencies, and the build.
#   scripts/setup.sh            set up for running
#   scripts/setup.sh --test     also make sure PostgreSQL is up for the tests, podman
#                               with the docker runner's test image (scripts/setup-podman.sh),
#                               and Debian's chromium for the web UI's browser tests
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '\033[1m[setup]\033[0m %s\n' "$*" >&2; }
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"

python_ok() {
  /usr/bin/python3 -c 'import scrapy, setuptools, venv' >/dev/null 2>&1
}
if ! python_ok; then
  log "installing Debian's python3-scrapy (Scrapy for /usr/bin/python3)"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq python3-scrapy python3-setuptools python3-venv >/dev/null
  python_ok || { log "python3-scrapy did not install"; exit 1; }
fi

stamp=node_modules/.scrapydd-installed
if [ ! -f "$stamp" ] || [ package-lock.json -nt "$stamp" ] || [ package.json -nt "$stamp" ]; then
  log "installing npm dependencies (better-sqlite3 may compile for ~90 s)"
  npm ci --no-audit --no-fund --loglevel=error
  touch "$stamp"
fi

log "building"
npm run --silent build

if [ "${1:-}" = "--test" ]; then
  if ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
    log "starting PostgreSQL"
    $SUDO pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start
    for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
  fi
  pg_isready -q -h 127.0.0.1 -p 5432 || { log "PostgreSQL is not reachable on 127.0.0.1:5432"; exit 1; }
  bash scripts/setup-podman.sh
  # The web UI's browser tests (test/e2e) drive Debian's Chromium through playwright-core.
  if [ ! -x /usr/bin/chromium ]; then
    log "installing Debian's chromium (browser tests)"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
    [ -x /usr/bin/chromium ] || { log "chromium did not install"; exit 1; }
  fi
fi
