#!/usr/bin/env bash
# Checks Scripts/install.sh and Scripts/uninstall.sh end to end: installs into a temporary prefix, then, from another
# directory and with an empty environment (`env -i PATH=/usr/bin:/bin`), runs the installed t5 (--version, tokenize,
# a chain-of-thought generate), checks that `ldd` lists no Swift library (the runtime is linked in statically) and
# that the completion scripts are there, uninstalls, and checks the prefix is left empty.
#
# Usage: Scripts/check-install.sh   (builds into .build-install/, like install.sh; a few minutes from cold)
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
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
bash "$root/Scripts/install.sh" --prefix "$prefix"

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

echo "== completions"
for f in share/bash-completion/completions/t5 share/zsh/site-functions/_t5 share/fish/vendor_completions.d/t5.fish; do
    [ -s "$prefix/$f" ] || fail "no $f"
    echo "$f: $(wc -l < "$prefix/$f") lines"
done
bash -n "$prefix/share/bash-completion/completions/t5" || fail "the bash completion script does not parse"
# shellcheck disable=SC1091
(source "$prefix/share/bash-completion/completions/t5" && complete -p t5 >/dev/null) || fail "the bash completion registers nothing"

echo "== uninstall"
# The installed copy, without --prefix: removal must work once the clone is gone.
(cd "$elsewhere" && env -i PATH=/usr/bin:/bin bash "$prefix/share/swift-t5/uninstall.sh")
left=$(find "$prefix" -mindepth 1)
[ -z "$left" ] || fail "uninstall left: $left"
echo "check-install: OK: install, run from elsewhere, static Swift runtime, completions, uninstall ($((SECONDS - start)) s)"
