#!/usr/bin/env bash
# The quick start's run command: sets up, makes the first admin if there is
# none (its password is printed once), and runs the server on :6800 with the
# embedded SQLite database (./database.db, eggs under ./data).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
node dist/src/cli/main.js init-admin
exec node dist/src/cli/main.js server "$@"
