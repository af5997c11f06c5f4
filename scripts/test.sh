#!/usr/bin/env bash
# The quick start's test command: sets up, checks the generated code and the
# protos, then runs the whole suite (unit and integration) on SQLite and
# PostgreSQL. Pass test files to run only those.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --test
bash scripts/check-gen.sh
node_modules/.bin/tsc -p tsconfig.test.json
node_modules/.bin/tsc -p tsconfig.web.json
# The long files (mostly waiting: real crawls, cron minutes, containers,
# browsers) start first so that the short ones fill the gaps around them.
SLOW='trigger-e2e|agent-e2e|docker|agent-fleet|agent-runs|agent-mtls|test/e2e/|webhook-delivery|deploy-cli|dispatch-e2e'
if [ "$#" -gt 0 ]; then
  files=("$@")
else
  mapfile -t files < <(find test -name '*.test.ts' | sort | grep -E "$SLOW"; find test -name '*.test.ts' | sort | grep -vE "$SLOW")
fi
exec node --import tsx --test --test-concurrency="${TEST_CONCURRENCY:-3}" --test-timeout=300000 "${files[@]}"
