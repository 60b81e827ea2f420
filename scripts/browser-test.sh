#!/usr/bin/env bash
# The playground page in a real browser: starts `backprop serve --port 0`, runs
# tests/browser/playground.test.mjs against it in Debian's headless chromium, and always stops
# the server. Needs node, npm and /usr/bin/chromium (apt-get install -y chromium chromium-driver).
#
# Usage: scripts/browser-test.sh [BINARY]
#   BINARY  the backprop binary (default: cargo build --release, then target/release/backprop)
# PLAYGROUND_SCREENSHOT=PATH  where the screenshot goes (default target/playground.png)
# PLAYGROUND_SHOWCASE=PATH    also write the spiral screenshot used in docs/img/playground.png
set -euo pipefail
cd "$(dirname "$0")/.."

binary=${1:-}
if [ -z "$binary" ]; then
    cargo build --quiet --release -p backprop-cli
    binary=target/release/backprop
fi
[ -x "$binary" ] || { echo "browser-test: $binary is not an executable" >&2; exit 2; }
[ -x "${CHROMIUM:-/usr/bin/chromium}" ] || {
    echo "browser-test: no ${CHROMIUM:-/usr/bin/chromium}; apt-get install -y chromium chromium-driver" >&2
    exit 2
}

if [ ! -d tests/browser/node_modules ]; then
    (cd tests/browser && npm ci --no-audit --no-fund --silent)
fi

server_log=$(mktemp)
server_pid=
cleanup() {
    if [ -n "$server_pid" ]; then
        kill "$server_pid" 2> /dev/null || true
        wait "$server_pid" 2> /dev/null || true
    fi
    rm -f "$server_log"
}
trap cleanup EXIT

"$binary" serve --port 0 2> "$server_log" &
server_pid=$!

# The server names its address on stderr: "backprop playground: http://HOST:PORT/".
url=
for _ in $(seq 1 100); do
    url=$(sed -n 's/.*backprop playground: \(http:\/\/[^ ]*\).*/\1/p' "$server_log" | head -n 1)
    [ -n "$url" ] && break
    kill -0 "$server_pid" 2> /dev/null || break
    sleep 0.1
done
if [ -z "$url" ]; then
    echo "browser-test: the server did not print its address; its output:" >&2
    cat "$server_log" >&2
    exit 1
fi
echo "browser-test: server at $url"

screenshot=${PLAYGROUND_SCREENSHOT:-target/playground.png}
status=0
node tests/browser/playground.test.mjs "$url" "$screenshot" || status=$?
if [ "$status" -ne 0 ]; then
    echo "browser-test: FAILED (server output follows)" >&2
    cat "$server_log" >&2
fi
exit "$status"
