#!/usr/bin/env bash
# The quick start's run command: sets up, makes the first admin if there is
# none (its password is printed once), and runs the server on :6800 with the
# embedded SQLite database (./database.db, files under ./data) plus a local
# agent registered as a permanent node (./data/node.json). Ctrl-C stops both.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
CLI=(node dist/src/cli/main.js)
"${CLI[@]}" init-admin

"${CLI[@]}" server "$@" &
server=$!
agent=""
stop() {
  [ -n "$agent" ] && kill -TERM "$agent" 2>/dev/null || true
  kill -TERM "$server" 2>/dev/null || true
  wait 2>/dev/null || true
}
trap stop INT TERM EXIT

port=$(node -e "
  const { loadConfig } = await import('./dist/src/config/load.js');
  console.log(loadConfig({ warn: () => {} }).server.bindPort);" --input-type=module)
for _ in $(seq 1 60); do
  curl -sf "http://127.0.0.1:${port}/healthz" >/dev/null 2>&1 && break
  kill -0 "$server" 2>/dev/null || { echo "the server did not start" >&2; exit 1; }
  sleep 0.5
done

if [ ! -f data/node.json ]; then
  key=$("${CLI[@]}" nodekey create)
  id=$(printf '%s\n' "$key" | sed -n 's/^node key:[[:space:]]*//p')
  secret=$(printf '%s\n' "$key" | sed -n 's/^secret:[[:space:]]*//p')
  printf '%s\n%s\n' "$id" "$secret" | "${CLI[@]}" agent -g --server "127.0.0.1:${port}"
fi
"${CLI[@]}" agent --server "127.0.0.1:${port}" &
agent=$!
wait -n "$server" "$agent"
