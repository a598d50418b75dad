#!/usr/bin/env bash
# Checks Scripts/install.sh and Scripts/uninstall.sh end to end: installs into a temporary prefix, then, from another
# directory and with an empty environment (`env -i PATH=/usr/bin:/bin`), runs the installed t5 (--version, tokenize,
# a chain-of-thought generate), checks that `ldd` lists no Swift library (the runtime is linked in statically) and
# that the completion scripts are there, that the installed `t5 serve` (started by its path and through PATH, on a
# free loopback port) serves the installed web page at / and answers /v1/completions, uninstalls, and checks the
# prefix is left empty.
#
# Usage: Scripts/check-install.sh   (builds into .build-install/, like install.sh; a few minutes from cold)
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
work=$(mktemp -d)
serve_pid=""
trap '[ -z "$serve_pid" ] || kill "$serve_pid" 2>/dev/null; rm -rf "$work"' EXIT
prefix="$work/prefix"
elsewhere="$work/elsewhere"
mkdir "$prefix" "$elsewhere"
start=$SECONDS

fail() { echo "check-install: FAIL: $*" >&2; exit 1; }
# Runs the installed t5 from $elsewhere with nothing in the environment but PATH; echoes the command and its output.
t5() {
    echo "\$ t5 $*" >&2
    (cd "$elsewhere" && env -i PATH=/usr/bin:/bin "$prefix/bin/t5" "$@")
}

echo "== install into $prefix"
bash "$root/Scripts/install.sh" --prefix "$prefix" 2>&1 | tee "$work/install.log"

echo "== run from $elsewhere with env -i PATH=/usr/bin:/bin"
version=$(t5 --version); echo "$version"
grep -q '^t5 version: [0-9]*\.[0-9]*\.[0-9]*$' <<<"$version" || fail "no version line"
grep -q '^build configuration: release$' <<<"$version" || fail "not a release build"
grep -q '^Swift runtime: static$' <<<"$version" || fail "the Swift runtime is not linked statically"
if [ "$(uname -m)" = x86_64 ]; then
    grep -q '^SIMD target: haswell' <<<"$version" || fail "not built for haswell"
fi

ids=$(t5 tokenize "Hello"); echo "$ids"
grep -Eq '^[0-9]+(,[0-9]+)*,1$' <<<"$ids" || fail "tokenize printed no ids"
# The demo model's own tokenizer (tokenizer.json), not the 32k standard vocabulary: "Hello" is not 8774,1 there.
[ "$ids" != "8774,1" ] || fail "tokenize used the standard vocabulary, not the demo model's tokenizer"
from_ids=$(t5 generate --ids "$ids"); echo "$from_ids"
from_text=$(t5 generate --json "Hello" | grep -o '"ids":\[[0-9,]*\]' | tr -dc '0-9,'); echo "ids: $from_text"
[ "$from_ids" = "$from_text" ] || fail "generate --ids \$(tokenize) gave $from_ids, generate gave $from_text"

answer=$(t5 generate --cot zero-shot "Emma has 41 marbles. She sells 6 marbles. Then she loses 14 marbles. How many marbles does Emma have now?")
echo "$answer"
grep -q '^Answer: 21$' <<<"$answer" || fail "the chain-of-thought answer is not 21"

echo "== ldd $prefix/bin/t5"
libraries=$(ldd "$prefix/bin/t5"); echo "$libraries"
if grep -Eq 'libswift|libFoundation|lib_Foundation|libdispatch|libBlocksRuntime|libicu' <<<"$libraries"; then
    fail "the installed t5 links a Swift library dynamically"
fi

# Packed relocations unless install.sh's probe said lld could not make them here.
if ! grep -q "linking the default way" "$work/install.log" && command -v readelf >/dev/null; then
    sections=$(readelf -S -W "$prefix/bin/t5")   # not piped into grep -q: pipefail would see readelf's SIGPIPE
    grep -q '\.relr\.dyn' <<<"$sections" || fail "install.sh linked without packed relocations"
    echo "packed relocations: .relr.dyn present"
fi

echo "== completions"
for f in share/bash-completion/completions/t5 share/zsh/site-functions/_t5 share/fish/vendor_completions.d/t5.fish; do
    [ -s "$prefix/$f" ] || fail "no $f"
    echo "$f: $(wc -l < "$prefix/$f") lines"
done
bash -n "$prefix/share/bash-completion/completions/t5" || fail "the bash completion script does not parse"
# shellcheck disable=SC1091
(source "$prefix/share/bash-completion/completions/t5" && complete -p t5 >/dev/null) || fail "the bash completion registers nothing"

echo "== t5 serve"
# A marker in the installed copy of the page: the server must serve PREFIX/share/swift-t5/public, not the source
# tree's Sources/T5Server/Public (which it falls back to while this clone exists, hiding a wrong lookup).
marker="check-install-$$-$RANDOM"
echo "<!-- $marker -->" >> "$prefix/share/swift-t5/public/index.html"
# serve_check HOW ENV...: starts `env -i ENV... serve --port 0` from $elsewhere (the demo model), reads the ready
# line, checks GET / and POST /v1/completions, then SIGTERM, which must end it with status 0.
serve_check() {
    local how=$1; shift
    local out="$work/serve-$how.out" err="$work/serve-$how.err" url="" i
    echo "\$ (started $how) t5 serve --port 0" >&2
    (cd "$elsewhere" && exec env -i "$@" serve --port 0 > "$out" 2> "$err") &
    serve_pid=$!
    for i in $(seq 1200); do
        url=$(sed -n 's/^t5 serve: listening on //p' "$out")
        [ -z "$url" ] || break
        kill -0 "$serve_pid" 2>/dev/null || { cat "$err" >&2; fail "t5 serve ($how) exited before it listened"; }
        sleep 0.1
    done
    [ -n "$url" ] || { cat "$err" >&2; fail "t5 serve ($how) printed no ready line in 120 s"; }
    echo "ready: $url"
    case "$url" in http://127.0.0.1:*) ;; *) fail "t5 serve ($how) is not on the loopback address: $url" ;; esac
    local page model completion status=0
    page=$(curl -fsS "$url/") || fail "GET / failed ($how)"
    grep -q '<html' <<<"$page" || fail "GET / is no HTML page ($how)"
    grep -q "$marker" <<<"$page" || fail "t5 serve ($how) did not serve the installed page $prefix/share/swift-t5/public/index.html"
    for f in app.js style.css; do
        curl -fsS -o /dev/null "$url/$f" || fail "GET /$f failed ($how)"
    done
    echo "GET /: $(wc -c <<<"$page") bytes, the installed index.html (marker found); app.js, style.css: 200"
    model=$(curl -fsS "$url/v1/models" | grep -o '"id" *: *"[^"]*"' | head -1 | sed 's/.*"\([^"]*\)"$/\1/')
    [ -n "$model" ] || fail "GET /v1/models listed no model ($how)"
    completion=$(curl -fsS "$url/v1/completions" -H 'Content-Type: application/json' \
        -d "{\"model\": \"$model\", \"prompt\": \"Hello\", \"max_tokens\": 8, \"temperature\": 0}") \
        || fail "POST /v1/completions failed ($how)"
    echo "POST /v1/completions: $completion"
    grep -q '"text_completion"' <<<"$completion" || fail "no text_completion object ($how)"
    grep -q '"completion_tokens" *: *[1-9]' <<<"$completion" || fail "no completion tokens ($how)"
    kill -TERM "$serve_pid"
    wait "$serve_pid" || status=$?
    serve_pid=""
    [ "$status" -eq 0 ] || { cat "$err" >&2; fail "t5 serve ($how) exited with status $status after SIGTERM"; }
    echo "SIGTERM: exit 0"
}
serve_check by-path PATH=/usr/bin:/bin "$prefix/bin/t5"
# Through PATH, argv[0] is a bare `t5`: the page must still be found beside the real executable.
serve_check through-PATH PATH="$prefix/bin:/usr/bin:/bin" t5

echo "== uninstall"
# The installed copy, without --prefix: removal must work once the clone is gone.
(cd "$elsewhere" && env -i PATH=/usr/bin:/bin bash "$prefix/share/swift-t5/uninstall.sh")
left=$(find "$prefix" -mindepth 1)
[ -z "$left" ] || fail "uninstall left: $left"
echo "check-install: OK: install, run from elsewhere, static Swift runtime, completions, t5 serve (page, completions), uninstall ($((SECONDS - start)) s)"
