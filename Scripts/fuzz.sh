#!/usr/bin/env bash
# Builds (cached) the libFuzzer binary for the library's parsers and runs one target, or all of them briefly.
#   Scripts/fuzz.sh TARGET SECONDS [extra libFuzzer flags...]
#   Scripts/fuzz.sh --smoke [SECONDS]      (CI: every target for SECONDS each, default 5)
# TARGET: safetensors | config | tokenizer-json | spiece | encode-decode | request
# Build: the library modules the targets reach (T5Tokenizers, T5Tensor, T5SafeTensors, T5Kernels, T5Modeling, and
# for the server's request decoder T5Generation, T5Engine, T5ServerAPI; not T5Server (NIO) or the CLI) are compiled by swiftc one by one in dependency order, each into an
# object and a .swiftmodule with -sanitize=fuzzer,address (coverage + ASan on the library code), -package-name
# swift-t5 (so `package` declarations cross modules as under SwiftPM), Swift 6 mode, and -enable-testing for the
# modules the entries `@testable import`. Tests/T5EngineTests/ReliabilityFuzzEntries.swift + Fuzz/FuzzMain.swift
# are then compiled (-D T5_FUZZING) and linked with them and OpenBLAS. The normal `swift build` never sees these
# flags. Everything lands in .build-fuzz/ (git-ignored; T5_FUZZ_BUILD=DIR to use another .build-fuzz* folder);
# a module is rebuilt when one of its sources, a dependency or this script is newer than its object.
# Seeds: Fuzz/seeds/TARGET (committed, small); regressions: Tests/T5EngineTests/Fixtures/fuzz-corpus/TARGET
# (committed, replayed by `swift test`); both are only read. The growing working corpus: .build-fuzz/corpus/TARGET
# (not committed); --smoke uses a fresh temporary one per target instead and deletes it.
# Crash inputs land in .build-fuzz/artifacts/TARGET/ (--smoke: .build-fuzz/smoke/artifacts/TARGET/, logs beside).
# --smoke exits non-zero when the build fails or any target crashes, breaks an invariant or times out.
# One process, one thread (no -jobs; swiftc -j 1, whole-module single-threaded), to leave CPU for others.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
script="$root/Scripts/fuzz.sh"
targets=(safetensors config tokenizer-json spiece encode-decode request)
usage="usage: Scripts/fuzz.sh TARGET SECONDS [libFuzzer flags] | Scripts/fuzz.sh --smoke [SECONDS]"

smoke=0
if [[ "${1:-}" == "--smoke" ]]; then
  smoke=1
  seconds="${2:-5}"
else
  target="${1:?$usage}"
  seconds="${2:?$usage}"
  shift 2
  case " ${targets[*]} " in
    *" $target "*) ;;
    *) echo "unknown target: $target (${targets[*]})" >&2; exit 2 ;;
  esac
fi

out="${T5_FUZZ_BUILD:-$root/.build-fuzz}"
bin="$out/t5-fuzz"
modules="$out/modules"
objects="$out/obj"
mkdir -p "$out" "$modules" "$objects"

# The library modules the entries reach, in dependency order, with their dependencies (as in Package.swift).
module_names=(T5Tokenizers T5Tensor T5SafeTensors T5Kernels T5Modeling T5Generation T5Engine T5ServerAPI)
declare -A module_deps=(
  [T5Tokenizers]=""
  [T5Tensor]=""
  [T5SafeTensors]="T5Tensor"
  [T5Kernels]="T5Tensor"
  [T5Modeling]="T5Kernels T5SafeTensors T5Tensor"
  [T5Generation]="T5Modeling"
  [T5Engine]="T5Tokenizers T5Generation T5Modeling T5Kernels T5SafeTensors T5Tensor"
  [T5ServerAPI]="T5Engine"
)
entries="$root/Tests/T5EngineTests/ReliabilityFuzzEntries.swift"
main="$root/Fuzz/FuzzMain.swift"
# The `request` target's entry (T5ServerAPI's strict request decoding), kept beside the server tests that replay it.
request_entry="$root/Tests/T5ServerTests/RequestFuzzEntry.swift"
# Modules the entries `@testable import` need -enable-testing (internal declarations, e.g. relativePositionBucket).
testable=" $(sed -n 's/^[[:space:]]*@testable[[:space:]]\{1,\}import[[:space:]]\{1,\}\([A-Za-z0-9_]*\).*/\1/p' "$entries" | tr '\n' ' ') "

# -O keeps executions fast; bounds and overflow checks stay on (not -Ounchecked), so traps are findings.
# CBLAS: the module map over <cblas.h> from Sources/CBLAS (T5Kernels imports it; its importers need it to
# load T5Kernels), linked against OpenBLAS (never instrumented).
# CT5Kernels (the C kernels T5Kernels imports): a module map over its public header in $out/cmodules, and its C
# files compiled by the toolchain's clang, one object each (not instrumented, like OpenBLAS; its own tests cover it).
cmodules="$out/cmodules"
mkdir -p "$cmodules/CT5Kernels"
printf 'module CT5Kernels {\n    header "%s"\n    export *\n}\n' "$root/Sources/CT5Kernels/include/t5_kernels.h" \
  >"$cmodules/CT5Kernels/module.modulemap"
common=(-O -g -sanitize=fuzzer,address -swift-version 6 -package-name swift-t5 -parse-as-library
        -wmo -j 1 -I "$modules" -I "$root/Sources/CBLAS" -I "$cmodules/CT5Kernels")

# Runs a swiftc command from $out (swiftc may drop temporary files in the working directory); on failure prints
# its output and exits; ld.gold's harmless "Cannot export local symbol" warnings are dropped.
run_swiftc() {
  local log="$out/build.log"
  if ! (cd "$out" && swiftc "$@") >"$log" 2>&1; then
    grep -v "ld.gold: warning: Cannot export local symbol" "$log" >&2 || true
    echo "fuzz build failed" >&2
    exit 1
  fi
  grep -v "ld.gold: warning: Cannot export local symbol" "$log" >&2 || true
}

build() {
  local name f stale dep
  local link_objects=()
  local c_file c_obj c_headers
  mapfile -t c_headers < <(find "$root/Sources/CT5Kernels" -name '*.h' | sort)
  while IFS= read -r c_file; do
    c_obj="$objects/CT5Kernels-$(basename "$c_file" .c).o"
    stale=1
    if [[ -f "$c_obj" ]]; then
      stale=0
      for f in "$c_file" "${c_headers[@]}" "$script"; do
        if [[ "$f" -nt "$c_obj" ]]; then stale=1; break; fi
      done
    fi
    if [[ $stale == 1 ]]; then
      echo "compiling CT5Kernels/$(basename "$c_file") ..." >&2
      rm -f "$c_obj"
      clang -O2 -g -fPIC -I "$root/Sources/CT5Kernels/include" -c "$c_file" -o "$c_obj" \
        || { echo "fuzz build failed" >&2; exit 1; }
    fi
    link_objects+=("$c_obj")
  done < <(find "$root/Sources/CT5Kernels" -name '*.c' | sort)
  for name in "${module_names[@]}"; do
    local obj="$objects/$name.o" sources
    mapfile -t sources < <(find "$root/Sources/$name" -name '*.swift' | sort)
    [[ ${#sources[@]} -gt 0 ]] || { echo "no sources in Sources/$name" >&2; exit 1; }
    stale=1
    if [[ -f "$obj" && -f "$modules/$name.swiftmodule" ]]; then
      stale=0
      for f in "${sources[@]}" "$script"; do
        if [[ "$f" -nt "$obj" ]]; then stale=1; break; fi
      done
      for dep in ${module_deps[$name]}; do
        if [[ "$modules/$dep.swiftmodule" -nt "$obj" ]]; then stale=1; break; fi
      done
      # A module's source folder lost a file (the build would then still have it): rebuild too.
      if [[ $stale == 0 && "$(printf '%s\n' "${sources[@]}")" != "$(cat "$objects/$name.sources" 2>/dev/null)" ]]; then stale=1; fi
    fi
    if [[ $stale == 1 ]]; then
      echo "compiling $name (${#sources[@]} files) ..." >&2
      local testing=()
      [[ "$testable" == *" $name "* ]] && testing=(-enable-testing)
      rm -f "$obj"
      run_swiftc "${common[@]}" ${testing[@]+"${testing[@]}"} -module-name "$name" \
        -emit-module -emit-module-path "$modules/$name.swiftmodule" \
        -emit-object -o "$obj" "${sources[@]}"
      printf '%s\n' "${sources[@]}" >"$objects/$name.sources"
    fi
    link_objects+=("$obj")
  done

  stale=1
  if [[ -x "$bin" ]]; then
    stale=0
    for f in "$entries" "$main" "$request_entry" "$script" "${link_objects[@]}"; do
      if [[ "$f" -nt "$bin" ]]; then stale=1; break; fi
    done
  fi
  if [[ $stale == 1 ]]; then
    echo "linking $bin ..." >&2
    rm -f "$bin.tmp"
    run_swiftc "${common[@]}" -module-name T5Fuzz -D T5_FUZZING \
      "$entries" "$main" "$request_entry" "${link_objects[@]}" \
      $(pkg-config --libs-only-L openblas 2>/dev/null || true) -lopenblas -o "$bin.tmp"
    [[ -x "$bin.tmp" ]] || { echo "fuzz build failed" >&2; exit 1; }
    mv "$bin.tmp" "$bin"
  fi
}

build

# The standard tokenizer is looked up beside the executable first (then in the source tree, by #filePath);
# give it the bundle name the library looks for, pointing at the source tree's copy.
bundle_name="$(sed -n 's/.*resourceBundleName = "\([^"]*\)".*/\1/p' "$root/Sources/T5Tokenizers/Loading/T5Tokenizer+Standard.swift" | head -n1)"
bundle="$out/${bundle_name:-swift-t5_T5Tokenizers.resources}/t5-tokenizer"
mkdir -p "$bundle"
ln -sf "$root/Sources/T5Tokenizers/Resources/t5-tokenizer/spiece.model" "$bundle/spiece.model"

# Swift's own crash backtracer would take SIGABRT/SIGILL before libFuzzer, which then saves no crash input.
export SWIFT_BACKTRACE="${SWIFT_BACKTRACE:-enable=no}"
# detect_leaks=0: the process-wide caches (standard tokenizer) are intentional, not leaks.
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=0:abort_on_error=1}"

# Prints the libFuzzer arguments for target $1 with working corpus $2 and artifact folder $3: the corpus first
# (libFuzzer writes new inputs only there), then the committed seed and regression folders that exist.
fuzz_args() {
  local target="$1" corpus="$2" artifacts="$3" dir
  local args=("$corpus")
  for dir in "$root/Fuzz/seeds/$target" "$root/Tests/T5EngineTests/Fixtures/fuzz-corpus/$target"; do
    [[ -d "$dir" ]] && args+=("$dir")
  done
  args+=(-max_total_time="$seconds" -max_len=65536 -rss_limit_mb=2048 -timeout=20
         -print_final_stats=1 -artifact_prefix="$artifacts/")
  # JSON-shaped targets get a dictionary of their keys and values (Fuzz/dicts/TARGET.dict).
  [[ -f "$root/Fuzz/dicts/$target.dict" ]] && args+=(-dict="$root/Fuzz/dicts/$target.dict")
  printf '%s\0' "${args[@]}"
}

if [[ $smoke == 0 ]]; then
  corpus="$out/corpus/$target"
  artifacts="$out/artifacts/$target"
  mkdir -p "$corpus" "$artifacts"
  mapfile -d '' args < <(fuzz_args "$target" "$corpus" "$artifacts")
  export T5_FUZZ_TARGET="$target"
  exec "$bin" "${args[@]}" "$@"
fi

# --smoke: every target from the committed inputs only, into a throwaway corpus.
work="$(mktemp -d "${TMPDIR:-/tmp}/t5-fuzz-smoke.XXXXXX")"
trap 'rm -rf "$work"' EXIT
smoke_out="$out/smoke"
rm -rf "$smoke_out"
failed=()
for target in "${targets[@]}"; do
  artifacts="$smoke_out/artifacts/$target"
  log="$smoke_out/$target.log"
  mkdir -p "$work/$target" "$artifacts"
  mapfile -d '' args < <(fuzz_args "$target" "$work/$target" "$artifacts")
  status=0
  T5_FUZZ_TARGET="$target" "$bin" "${args[@]}" >"$log" 2>&1 || status=$?
  if [[ $status == 0 ]]; then
    echo "fuzz smoke $target: ok ($(grep -o '#[0-9]*[[:space:]]*DONE.*' "$log" | tail -n1))"
  else
    echo "fuzz smoke $target: FAILED (exit $status; log $log; inputs in $artifacts/)"
    tail -n 60 "$log"
    failed+=("$target")
  fi
done
if [[ ${#failed[@]} -gt 0 ]]; then
  echo "fuzz smoke failed: ${failed[*]}" >&2
  exit 1
fi
echo "fuzz smoke: all ${#targets[@]} targets ran ${seconds}s each without a finding"
