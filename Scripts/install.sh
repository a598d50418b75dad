#!/usr/bin/env bash
# Builds a release `t5` (Swift runtime linked in statically) and installs it with its data under PREFIX:
#   PREFIX/bin/t5
#   PREFIX/share/swift-t5/demo-t5/                        the demo model (Models/demo-t5)
#   PREFIX/share/swift-t5/spiece.model                    the standard T5 vocabulary
#   PREFIX/share/swift-t5/public/                         `t5 serve`'s web page (Sources/T5Server/Public), where the
#                                                         installed t5 looks for it (PublicFiles.swift)
#   PREFIX/share/swift-t5/install-manifest.txt            what was installed, for Scripts/uninstall.sh
#   PREFIX/share/swift-t5/uninstall.sh                    a copy of Scripts/uninstall.sh (removal without a clone)
#   PREFIX/share/bash-completion/completions/t5           shell completions (`t5 --generate-completion-script SHELL`)
#   PREFIX/share/zsh/site-functions/_t5
#   PREFIX/share/fish/vendor_completions.d/t5.fish
#
# Usage: Scripts/install.sh [--prefix DIR] [--target-cpu CPU|baseline]
#   --prefix DIR       where to install (default /usr/local)
#   --target-cpu CPU   x86_64 only: the -target-cpu for every Swift module (default haswell: AVX2 + FMA, any x86-64
#                      CPU since 2013 / AMD since 2015; this toolchain rejects x86-64-v3, see README "Install");
#                      `baseline` builds for plain x86-64 (SSE2). On aarch64 no flag is passed.
# The build has its own scratch folder, .build-install/ (git-ignored). The installed binary still needs the system's
# OpenBLAS (libopenblas0), which it links dynamically.
set -euo pipefail

die() { echo "install.sh: error: $*" >&2; exit 2; }

prefix=/usr/local
target_cpu=haswell
while [ $# -gt 0 ]; do
    case "$1" in
        --prefix) [ $# -ge 2 ] || die "--prefix needs a directory"; prefix=$2; shift 2 ;;
        --prefix=*) prefix=${1#--prefix=}; shift ;;
        --target-cpu) [ $# -ge 2 ] || die "--target-cpu needs a CPU name"; target_cpu=$2; shift 2 ;;
        --target-cpu=*) target_cpu=${1#--target-cpu=}; shift ;;
        -h|--help) sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) die "unknown argument '$1' (usage: Scripts/install.sh [--prefix DIR] [--target-cpu CPU|baseline])" ;;
    esac
done
[ -n "$prefix" ] || die "empty --prefix"
[ -n "$target_cpu" ] || die "empty --target-cpu"
prefix=$(realpath -m -- "$prefix")
[ "$prefix" != / ] || die "refusing to use / as the prefix"

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
scratch="$root/.build-install"
share="$prefix/share/swift-t5"
manifest="$share/install-manifest.txt"

# --- build ---------------------------------------------------------------------------------------------------------
flags=(-c release --static-swift-stdlib --scratch-path "$scratch" --product t5)
case "$(uname -m)" in
    x86_64|amd64)
        if [ "$target_cpu" != baseline ]; then
            # T5_TARGET_CPU_SET turns on the fused multiply-add kernels; T5_TARGET_CPU_HASWELL names the target in
            # `t5 --version` and makes t5 refuse, with a message, a CPU without AVX2 / FMA.
            flags+=(-Xswiftc -target-cpu -Xswiftc "$target_cpu" -Xswiftc -DT5_TARGET_CPU_SET)
            [ "$target_cpu" != haswell ] || flags+=(-Xswiftc -DT5_TARGET_CPU_HASWELL)
        fi ;;
    *) target_cpu=baseline ;;
esac
# Packed relative relocations (DT_RELR, from lld's `-z pack-relative-relocs`): at every start the dynamic loader
# otherwise reads the binary's 2.5 MB of relocation records: `t5 --version` 20.5 -> 19.1 MB of RSS, 7.3 -> 6.7 ms
# (PERFORMANCE.md, "Installed binary: packed relocations"). It needs the toolchain's lld, and glibc 2.36 or later to
# run; a probe links and runs a one-line program that way first, and without either the default link is kept.
relr_probe() {
    local dir rc=0
    dir=$(mktemp -d) || return 1
    echo 'print("ok")' > "$dir/probe.swift"
    (cd "$dir" && swiftc -static-stdlib -use-ld=lld -Xlinker -z -Xlinker pack-relative-relocs probe.swift -o probe \
        >/dev/null 2>&1 && [ "$(./probe 2>/dev/null)" = ok ]) || rc=1
    rm -rf "$dir"
    return $rc
}
if relr_probe; then
    flags+=(-Xswiftc -use-ld=lld -Xlinker -z -Xlinker pack-relative-relocs)
else
    echo "install.sh: note: lld with packed relocations is not usable here; linking the default way"
fi
echo "install.sh: building: swift build ${flags[*]}"
# T5_TARGET_CPU (Package.swift's opt-in flag) would add a second -target-cpu to some modules: not for this build.
(cd "$root" && env -u T5_TARGET_CPU swift build "${flags[@]}")
bin=$(cd "$root" && env -u T5_TARGET_CPU swift build "${flags[@]}" --show-bin-path)
[ -x "$bin/t5" ] || die "the build left no $bin/t5"

# --- install -------------------------------------------------------------------------------------------------------
# Directories this install creates are recorded (deepest last) so that uninstall.sh removes them again when empty;
# a reinstall keeps the ones the earlier install recorded.
created_dirs=()
if [ -f "$manifest" ]; then
    while IFS= read -r line; do
        case "$line" in "dir "*) created_dirs+=("${line#dir }") ;; esac
    done < "$manifest"
fi
installed_files=()
mkdir -p "$(dirname "$prefix")"  # the prefix itself is recorded below if this install creates it; its parents are not

make_dir() {  # mkdir -p, recording each directory that did not exist
    local dir=$1 missing=()
    while [ ! -d "$dir" ]; do missing=("$dir" "${missing[@]}"); dir=$(dirname "$dir"); done
    local d
    for d in "${missing[@]}"; do
        mkdir "$d"
        created_dirs+=("$d")
    done
}

put() {  # put MODE SOURCE DEST
    make_dir "$(dirname "$3")"
    install -m "$1" "$2" "$3"
    installed_files+=("$3")
    echo "installed $3"
}

put 755 "$bin/t5" "$prefix/bin/t5"

demo="$root/Models/demo-t5"
[ -f "$demo/config.json" ] || die "no demo model at $demo"
while IFS= read -r -d '' file; do
    put 644 "$file" "$share/demo-t5/${file#"$demo/"}"
done < <(find "$demo" -type f -print0 | sort -z)
put 644 "$root/Sources/T5Tokenizers/Resources/t5-tokenizer/spiece.model" "$share/spiece.model"
page="$root/Sources/T5Server/Public"
[ -f "$page/index.html" ] || die "no web page at $page"
while IFS= read -r -d '' file; do
    put 644 "$file" "$share/public/${file#"$page/"}"
done < <(find "$page" -type f -print0 | sort -z)
# A copy of the uninstaller beside the manifest, so removal needs no clone: PREFIX/share/swift-t5/uninstall.sh.
put 755 "$root/Scripts/uninstall.sh" "$share/uninstall.sh"

completions=$(mktemp -d)
trap 'rm -rf "$completions"' EXIT
for shell in bash zsh fish; do
    "$prefix/bin/t5" --generate-completion-script "$shell" > "$completions/$shell"
done
put 644 "$completions/bash" "$prefix/share/bash-completion/completions/t5"
put 644 "$completions/zsh" "$prefix/share/zsh/site-functions/_t5"
put 644 "$completions/fish" "$prefix/share/fish/vendor_completions.d/t5.fish"

{
    echo "# swift-t5 install manifest: written by Scripts/install.sh, read by Scripts/uninstall.sh"
    echo "prefix $prefix"
    for f in "${installed_files[@]}"; do echo "file $f"; done
    echo "file $manifest"
    printf '%s\n' "${created_dirs[@]}" | awk 'NF && !seen[$0]++ { print "dir " $0 }'
} > "$manifest"
echo "installed $manifest"

echo "install.sh: installed t5 $("$prefix/bin/t5" --version | sed -n 's/^t5 version: //p') into $prefix" \
     "($((${#installed_files[@]} + 1)) files; target CPU: $target_cpu)"
case ":$PATH:" in *":$prefix/bin:"*) ;; *) echo "install.sh: note: $prefix/bin is not on PATH" ;; esac
