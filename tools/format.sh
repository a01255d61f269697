#!/usr/bin/env bash
# Formats the tracked C++ sources (*.cpp, *.h) with the repository's .clang-format.
#   tools/format.sh [FILE...]          rewrite the files in place (default: every tracked one)
#   tools/format.sh --check [FILE...]  change nothing; list the files that differ, exit 1 if any
# The C helpers of the guest tests (tests/guest/*.c) keep their own C style and are not included.
# Layouts differ between clang-format releases: the style is tuned for clang-format 14 (Debian 12's
# clang-format package); set CLANG_FORMAT to use another binary.
set -euo pipefail

check=0
if [[ ${1:-} == --check ]]; then
  check=1
  shift
fi
if [[ ${1:-} == -* ]]; then
  echo "usage: tools/format.sh [--check] [FILE...]" >&2
  exit 2
fi
# FILEs are named from where the script is run; it works from the repository root.
files=()
for f in "$@"; do
  [[ $f == /* ]] || f=$PWD/$f
  files+=("$f")
done
cd "$(dirname "$0")/.."

clang_format=${CLANG_FORMAT:-}
if [[ -z $clang_format ]]; then
  clang_format=clang-format
  command -v clang-format-14 >/dev/null && clang_format=clang-format-14
fi
if ! version=$("$clang_format" --version 2>/dev/null); then
  echo "tools/format.sh: cannot run '$clang_format' (apt-get install clang-format)" >&2
  exit 2
fi
if [[ $version != *"version 14."* ]]; then
  echo "tools/format.sh: warning: the style is tuned for clang-format 14; $version may lay out some lines differently" >&2
fi

if ((${#files[@]} == 0)); then
  mapfile -t files < <(git ls-files -- '*.cpp' '*.h')
fi

differ=0
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
for f in "${files[@]}"; do
  if [[ ! -f $f ]]; then
    echo "tools/format.sh: no such file: $f" >&2
    exit 2
  fi
  if ((check)); then
    # A formatter error must pass neither as "differs" nor as "clean": stop on it.
    "$clang_format" --style="file:$PWD/.clang-format" "$f" >"$tmp" || { echo "tools/format.sh: clang-format failed on $f" >&2; exit 2; }
    if ! cmp -s "$f" "$tmp"; then
      echo "$f"
      differ=1
    fi
  else
    "$clang_format" --style="file:$PWD/.clang-format" -i "$f"
  fi
done
if ((differ)); then
  echo "tools/format.sh: the files above are not formatted; run tools/format.sh to fix them" >&2
  exit 1
fi
