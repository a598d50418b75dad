#!/usr/bin/env bash
# Checks what a library user gets: a temporary package outside the repository depends on this one by path
# (`.package(path:)`), imports T5Engine, loads Models/demo-t5, generates, and checks that the runtime chose the vector
# kernels this CPU runs (AVX2+FMA or AVX-512 on x86-64) with no environment variable and no unsafe flags: the
# consumer's manifest sets none, T5_TARGET_CPU is removed from the environment, and the build log is checked for
# `-target-cpu`. Prints the build and run times.
#
# Usage: Scripts/check-consumer.sh [debug|release]   (default release; a few minutes from cold on 2 cores)
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
config=${1:-release}
case "$config" in debug|release) ;; *) echo "usage: $0 [debug|release]" >&2; exit 2 ;; esac
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "check-consumer: FAIL: $*" >&2; exit 1; }

# SwiftPM names a path dependency after its folder.
identity=$(basename "$root")
mkdir -p "$work/consumer/Sources/T5Consumer"
cat > "$work/consumer/Package.swift" <<MANIFEST
// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "T5Consumer",
    dependencies: [.package(path: "$root")],
    targets: [
        .executableTarget(name: "T5Consumer", dependencies: [.product(name: "T5Engine", package: "$identity")]),
    ]
)
MANIFEST
cat > "$work/consumer/Sources/T5Consumer/main.swift" <<'SOURCE'
import Foundation
import T5Engine

let runtime = T5Runtime(threads: 2)
let t5 = try T5Generator(directory: URL(fileURLWithPath: CommandLine.arguments[1]), runtime: runtime)
var options = t5.defaultOptions
options.maxNewTokens = 16
let g = try await t5.generate(prompt: "Is 17 greater than 9?", options: options)
print("generated: \(g.text) (\(g.tokens.count) tokens)")
print("kernels: \(runtime.instructionSet.rawValue)")
print("best: \(InstructionSet.best.rawValue)")
SOURCE

echo "== build the consumer ($config) in $work/consumer, without T5_TARGET_CPU"
start=$SECONDS
(cd "$work/consumer" && env -u T5_TARGET_CPU swift build -c "$config" -v) > "$work/build.log" 2>&1 \
    || { tail -30 "$work/build.log" >&2; fail "the consumer does not build"; }
build_seconds=$((SECONDS - start))
! grep -q -- "-target-cpu" "$work/build.log" || fail "the build used -target-cpu (unsafe flags)"
! grep -Eq -- "-march=|-mavx" "$work/build.log" || fail "the build passed -march / -mavx flags"

echo "== run it from $work with nothing in the environment but PATH"
start=$SECONDS
out=$(cd "$work" && env -i PATH=/usr/bin:/bin "$work/consumer/.build/$config/T5Consumer" "$root/Models/demo-t5") \
    || fail "the consumer failed to run"
run_seconds=$((SECONDS - start))
echo "$out"
grep -q '^generated: .*([1-9][0-9]* tokens)$' <<<"$out" || fail "nothing generated"
kernels=$(sed -n 's/^kernels: //p' <<<"$out")
best=$(sed -n 's/^best: //p' <<<"$out")
[ "$kernels" = "$best" ] || fail "the runtime chose $kernels although the CPU runs $best"
if [ "$(uname -m)" = x86_64 ] && grep -qw avx2 /proc/cpuinfo && grep -qw fma /proc/cpuinfo; then
    [ "$kernels" = avx2 ] || [ "$kernels" = avx512 ] || fail "portable kernels on a CPU with AVX2 and FMA"
fi
echo "check-consumer: OK ($kernels kernels; build ${build_seconds}s, run ${run_seconds}s)"
