#!/usr/bin/env bash
# Builds (cached) the libFuzzer binary for the T5Engine parsers and runs one target.
#   Scripts/fuzz.sh TARGET SECONDS [extra libFuzzer flags...]
# TARGET: safetensors | config | tokenizer-json | spiece | encode-decode
# The binary is the library sources + Tests/T5EngineTests/ReliabilityFuzzEntries.swift + Fuzz/FuzzMain.swift,
# compiled by swiftc with -sanitize=fuzzer,address (the normal `swift build` never sees these flags).
# Seeds: Fuzz/seeds/TARGET (committed, small); regressions: Tests/T5EngineTests/Fixtures/fuzz-corpus/TARGET
# (committed, replayed by `swift test`); the growing working corpus: .build-fuzz/corpus/TARGET (not committed).
# Crash inputs land in .build-fuzz/artifacts/TARGET/. One process, one thread (no -jobs), to leave CPU for others.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
target="${1:?usage: Scripts/fuzz.sh TARGET SECONDS [libFuzzer flags]}"
seconds="${2:?usage: Scripts/fuzz.sh TARGET SECONDS [libFuzzer flags]}"
shift 2

case "$target" in
  safetensors|config|tokenizer-json|spiece|encode-decode) ;;
  *) echo "unknown target: $target (safetensors, config, tokenizer-json, spiece, encode-decode)" >&2; exit 2 ;;
esac

out="$root/.build-fuzz"
bin="$out/t5-fuzz"
mkdir -p "$out"

sources=( $(find "$root/Sources/T5Engine" -name '*.swift' | sort) "$root/Tests/T5EngineTests/ReliabilityFuzzEntries.swift" "$root/Fuzz/FuzzMain.swift" )
# Rebuild when any source is newer than the binary.
stale=1
if [[ -x "$bin" ]]; then
  stale=0
  for f in "${sources[@]}" "$0"; do
    if [[ "$f" -nt "$bin" ]]; then stale=1; break; fi
  done
fi
if [[ $stale == 1 ]]; then
  echo "building $bin ..." >&2
  rm -f "$bin.tmp"
  # -O keeps executions fast; bounds and overflow checks stay on (not -Ounchecked), so traps are findings.
  # CBLAS: the module map over <cblas.h> from Sources/CBLAS, linked against OpenBLAS (never instrumented).
  # Run from $out: swiftc drops its module files (T5Fuzz-1.swiftmodule, …) in the working directory.
  (cd "$out" && swiftc -O -g -sanitize=fuzzer,address -parse-as-library -module-name T5Fuzz -D T5_FUZZING \
    -I "$root/Sources/CBLAS" -lopenblas \
    -wmo -num-threads 1 \
    "${sources[@]}" -o "$bin.tmp" 2>&1 | grep -v "ld.gold: warning: Cannot export local symbol" >&2 || true)
  [[ -x "$bin.tmp" ]] || { echo "build failed" >&2; exit 1; }
  mv "$bin.tmp" "$bin"
fi

# The standard tokenizer is found beside the executable first; point it at the source tree's copy.
bundle="$out/swift-t5_T5Engine.resources/t5-tokenizer"
mkdir -p "$bundle"
ln -sf "$root/Sources/T5Engine/Tokenizer/Resources/t5-tokenizer/spiece.model" "$bundle/spiece.model"

corpus="$out/corpus/$target"
artifacts="$out/artifacts/$target"
seeds="$root/Fuzz/seeds/$target"
regressions="$root/Tests/T5EngineTests/Fixtures/fuzz-corpus/$target"
mkdir -p "$corpus" "$artifacts" "$seeds" "$regressions"

# JSON-shaped targets get a dictionary of their keys and values (Fuzz/dicts/TARGET.dict).
dict=()
[[ -f "$root/Fuzz/dicts/$target.dict" ]] && dict=(-dict="$root/Fuzz/dicts/$target.dict")

export T5_FUZZ_TARGET="$target"
# Swift's own crash backtracer would take SIGABRT/SIGILL before libFuzzer, which then saves no crash input.
export SWIFT_BACKTRACE="${SWIFT_BACKTRACE:-enable=no}"
# detect_leaks=0: the process-wide caches (standard tokenizer) are intentional, not leaks.
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=0:abort_on_error=1}"
exec "$bin" "$corpus" "$seeds" "$regressions" \
  -max_total_time="$seconds" -max_len=65536 -rss_limit_mb=2048 -timeout=20 \
  -print_final_stats=1 -artifact_prefix="$artifacts/" ${dict[@]+"${dict[@]}"} "$@"
