#!/usr/bin/env bash
# Fails when proto/ breaks buf lint or gen/ is not what `buf generate` makes from proto/.
set -euo pipefail
cd "$(dirname "$0")/.."
node_modules/.bin/buf lint
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
node_modules/.bin/buf generate -o "$tmp"
if ! diff -r "$tmp/gen" gen >/dev/null; then
  echo "gen/ is stale: run 'npm run generate' and commit gen/" >&2
  diff -r "$tmp/gen" gen | head -20 >&2
  exit 1
fi
