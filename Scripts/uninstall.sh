#!/usr/bin/env bash
# Removes what Scripts/install.sh installed under PREFIX, exactly: the files listed in
# PREFIX/share/swift-t5/install-manifest.txt, then the directories that install created, if they are empty.
#
# Usage: Scripts/uninstall.sh [--prefix DIR]   (default /usr/local)
#        PREFIX/share/swift-t5/uninstall.sh     (the installed copy: PREFIX is where it sits)
set -euo pipefail

die() { echo "uninstall.sh: error: $*" >&2; exit 2; }

prefix=/usr/local
# The installed copy sits beside the manifest, two levels below its prefix.
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
[ ! -f "$here/install-manifest.txt" ] || prefix=$(realpath -m -- "$here/../..")
while [ $# -gt 0 ]; do
    case "$1" in
        --prefix) [ $# -ge 2 ] || die "--prefix needs a directory"; prefix=$2; shift 2 ;;
        --prefix=*) prefix=${1#--prefix=}; shift ;;
        -h|--help) sed -n '2,5p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) die "unknown argument '$1' (usage: Scripts/uninstall.sh [--prefix DIR])" ;;
    esac
done
[ -n "$prefix" ] || die "empty --prefix"
prefix=$(realpath -m -- "$prefix")
[ "$prefix" != / ] || die "refusing to use / as the prefix"
manifest="$prefix/share/swift-t5/install-manifest.txt"
[ -f "$manifest" ] || die "no $manifest: Scripts/install.sh did not install into $prefix"

files=(); dirs=()
while IFS= read -r line; do
    case "$line" in
        "#"*|"prefix "*|"") ;;
        "file "*) files+=("${line#file }") ;;
        "dir "*) dirs+=("${line#dir }") ;;
        *) die "$manifest: unexpected line '$line'" ;;
    esac
done < "$manifest"

# Only paths under PREFIX (and PREFIX itself, when install.sh created it), whatever the manifest says.
for path in "${files[@]}"; do
    case "$path" in "$prefix"/*) ;; *) die "$manifest lists $path, which is outside $prefix; nothing removed" ;; esac
done
for path in "${dirs[@]}"; do
    case "$path" in "$prefix"|"$prefix"/*) ;; *) die "$manifest lists $path, which is outside $prefix; nothing removed" ;; esac
done

removed=0
for f in "${files[@]}"; do
    if [ -e "$f" ] || [ -L "$f" ]; then
        rm -f -- "$f"
        echo "removed $f"
        removed=$((removed + 1))
    else
        echo "already gone: $f"
    fi
done
# Deepest first; a directory that now holds something else is kept.
kept=0
while IFS= read -r d; do
    [ -n "$d" ] || continue
    [ -d "$d" ] || continue
    if rmdir -- "$d" 2>/dev/null; then echo "removed directory $d"; else echo "kept $d (not empty)"; kept=$((kept + 1)); fi
done < <(printf '%s\n' "${dirs[@]}" | awk '{ print length($0) "\t" $0 }' | sort -rn | cut -f2-)
note=""; [ "$kept" -eq 0 ] || note=" ($kept directories kept: not empty)"
echo "uninstall.sh: removed $removed files from $prefix$note"
