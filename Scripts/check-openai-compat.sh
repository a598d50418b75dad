#!/usr/bin/env bash
# Runs Scripts/openai_compat.py (the official OpenAI Python client) against a real `t5 serve` of the demo model, and
# with --page also Scripts/check_page.py (the web page in headless Chromium):
#
#   bash Scripts/check-openai-compat.sh [--release] [--page] [--screenshot PNG] [--python PY]
#
# 1. a venv .venv-server with Scripts/requirements-server.txt (made once; --python PY uses another Python instead)
# 2. `swift build --product t5` (debug; --release for a release build)
# 3. `t5 serve --model Models/demo-t5 --port 0 --api-key ...` on a free loopback port (read from its ready line)
# 4. openai_compat.py with that key (so a wrong key is checked too); with transformers and torch importable, also
#    --reference-model Models/demo-t5 (embeddings against transformers' encoder)
# 5. with --page: check_page.py (needs Debian's chromium), --screenshot PNG keeps the page's picture
# 6. SIGTERM to the server, which must exit 0 (graceful shutdown)
# Exits non-zero when any step fails. About 1 min with a warm debug build, most of it pip on the first run.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

config=debug page=0 screenshot="" python=""
while [ $# -gt 0 ]; do
    case "$1" in
        --release) config=release; shift ;;
        --page) page=1; shift ;;
        --screenshot) screenshot=$2; page=1; shift 2 ;;
        --python) python=$2; shift 2 ;;
        -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) echo "check-openai-compat.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
    esac
done

if [ -z "$python" ]; then
    python=.venv-server/bin/python
    if [ ! -x "$python" ]; then
        python3 -m venv .venv-server
        .venv-server/bin/pip install --quiet -r Scripts/requirements-server.txt
    fi
fi

swift build -c "$config" --product t5
bin=$(swift build -c "$config" --show-bin-path)/t5

work=$(mktemp -d /tmp/t5-openai-compat.XXXXXX)
key="compat-check-$RANDOM$RANDOM"
"$bin" serve --model Models/demo-t5 --host 127.0.0.1 --port 0 --api-key "$key" > "$work/server.out" 2> "$work/server.err" &
server=$!
stop_server() { kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; rm -rf "$work"; }
trap stop_server EXIT

url=""
for _ in $(seq 1 600); do
    url=$(cat "$work/server.out" "$work/server.err" 2>/dev/null | grep -o 'http://[0-9.:]*' | head -1 || true)
    [ -n "$url" ] && break
    kill -0 "$server" 2>/dev/null || { cat "$work/server.err" >&2; echo "t5 serve exited" >&2; exit 1; }
    sleep 0.1
done
[ -n "$url" ] || { echo "t5 serve printed no address within 60 s" >&2; exit 1; }
echo "== t5 serve ($config) at $url"

reference=()
if "$python" -c "import torch, transformers" 2>/dev/null; then reference=(--reference-model Models/demo-t5); fi
"$python" Scripts/openai_compat.py --base-url "$url/v1" --api-key "$key" "${reference[@]}"

if [ "$page" = 1 ]; then
    "$python" Scripts/check_page.py --url "$url/" --api-key "$key" ${screenshot:+--screenshot "$screenshot"}
fi

kill -TERM "$server"
status=0
wait "$server" || status=$?
trap 'rm -rf "$work"' EXIT
[ "$status" = 0 ] || { echo "t5 serve exited with $status after SIGTERM" >&2; cat "$work/server.err" >&2; exit 1; }
echo "== t5 serve stopped on SIGTERM with status 0"
