#!/usr/bin/env bash
# Install the MinGW-w64 cross toolchain and Wine (Debian packages), and build libuv for
# Windows from Debian's own source package into a cached prefix. CLI11, nlohmann-json, toml++ and doctest are
# header-only: their headers are copied into the same prefix, because Debian's CMake
# configs for them put /usr/include on the include path, which is wrong when cross
# compiling.
#
#   .ci/windows-deps.sh            # prints KEY=VALUE lines on stdout (logs go to stderr)
#   eval "$(.ci/windows-deps.sh)"  # sets HVTERM_WIN_DEPS_PREFIX, HVTERM_WIN_INCLUDE_DIR, ...
#
# Cache: ${HVTERM_WIN_DEPS:-$HOME/.cache/hvterm-win-deps}
#   prefix/                      install prefix (pass as CMAKE_PREFIX_PATH)
#     include/uv.h, include/uv/  libuv headers
#     include/CLI/, include/nlohmann/, include/toml++/, include/doctest/, include/xxhash.h   copied from the host's -dev packages
#     lib/libuv_a.a, lib/libuv.dll.a, bin/libuv.dll
#     lib/cmake/libuv/           libuvConfig.cmake (targets uv, uv_a)
#     lib/pkgconfig/             libuv.pc, libuv-static.pc
#   src/                         Debian source package of libuv1 (.dsc + tarballs)
#   wineprefix/                  WINEPREFIX used by .ci/wine-env.sh
# A second run finds prefix/.hvterm-stamp and only checks the packages (a few seconds).
# HVTERM_WIN_DEPS_REBUILD=1 forces a rebuild of the prefix.
set -euo pipefail

exec 3>&1 1>&2            # stdout is for the KEY=VALUE results only

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
TOOLCHAIN="$ROOT/cmake/toolchain-mingw-w64.cmake"
CACHE="${HVTERM_WIN_DEPS:-$HOME/.cache/hvterm-win-deps}"
PREFIX="$CACHE/prefix"
STAMP="$PREFIX/.hvterm-stamp"
RECIPE_VERSION=4          # bump to force every cache to rebuild

log() { printf '[windows-deps] %s\n' "$*"; }

SUDO=()
if [ "$(id -u)" != 0 ]; then SUDO=(sudo); fi
export DEBIAN_FRONTEND=noninteractive

# --- 1. Debian packages -------------------------------------------------------------------
PKGS=(g++-mingw-w64-x86-64-posix mingw-w64-tools dpkg-dev wine64 cmake libcli11-dev nlohmann-json3-dev doctest-dev
  libtomlplusplus-dev)
missing=()
for p in "${PKGS[@]}"; do
  if ! dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$'; then
    missing+=("$p")
  fi
done
APT_UPDATED=0
apt_update() {
  if [ "$APT_UPDATED" = 0 ]; then "${SUDO[@]}" apt-get update -qq; APT_UPDATED=1; fi
}
if [ "${#missing[@]}" -gt 0 ]; then
  log "installing: ${missing[*]}"
  if ! ls /var/lib/apt/lists/*_Packages* >/dev/null 2>&1; then apt_update; fi
  if ! "${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"; then
    apt_update
    "${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
  fi
fi

CXX_VERSION="$(x86_64-w64-mingw32-g++-posix -dumpfullversion 2>/dev/null || echo unknown)"
STAMP_WANT="recipe=$RECIPE_VERSION gcc=$CXX_VERSION toolchain=$(sha256sum "$TOOLCHAIN" | cut -c1-16)"

# --- 2. libuv for Windows -----------------------------------------------------------------
if [ "${HVTERM_WIN_DEPS_REBUILD:-0}" != 1 ] && [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$STAMP_WANT" ]; then
  log "cached: $PREFIX ($(cat "$STAMP"))"
else
  log "building libuv for Windows into $PREFIX"
  mkdir -p "$CACHE/src"
  if ! ls "$CACHE"/src/libuv1_*.dsc >/dev/null 2>&1; then
    # Enable deb-src next to the existing lists (separate file, the original is untouched).
    SRCLIST=/etc/apt/sources.list.d/hvterm-deb-src.sources
    if [ ! -f "$SRCLIST" ]; then
      if [ -f /etc/apt/sources.list.d/debian.sources ]; then
        sed 's/^Types:.*/Types: deb-src/' /etc/apt/sources.list.d/debian.sources \
          | "${SUDO[@]}" tee "$SRCLIST" >/dev/null
      elif [ -f /etc/apt/sources.list ]; then
        SRCLIST=/etc/apt/sources.list.d/hvterm-deb-src.list
        sed -n 's/^deb /deb-src /p' /etc/apt/sources.list | "${SUDO[@]}" tee "$SRCLIST" >/dev/null
      else
        log "no Debian sources list found to derive deb-src from"; exit 1
      fi
    fi
    if ! ls /var/lib/apt/lists/*_Sources* >/dev/null 2>&1; then APT_UPDATED=0; fi
    apt_update
    (cd "$CACHE/src" && apt-get source -qq --download-only libuv1)
  fi
  # shellcheck disable=SC2012
  DSC="$(ls -1 "$CACHE"/src/libuv1_*.dsc | sort -V | tail -n1)"
  log "source: $(basename "$DSC")"

  WORK="$(mktemp -d "$CACHE/work.XXXXXX")"
  trap 'rm -rf "$WORK"' EXIT
  dpkg-source --no-check -x "$DSC" "$WORK/libuv" >/dev/null   # applies Debian's patches

  GEN=()
  if command -v ninja >/dev/null; then GEN=(-G Ninja); fi
  STAGE="$WORK/prefix"
  cmake -S "$WORK/libuv" -B "$WORK/build" "${GEN[@]}" \
    -DCMAKE_TOOLCHAIN_FILE="$TOOLCHAIN" \
    -DHVTERM_WIN_DEPS_PREFIX="$STAGE" \
    -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_INSTALL_PREFIX="$PREFIX" \
    -DCMAKE_INSTALL_LIBDIR=lib \
    -DLIBUV_BUILD_TESTS=OFF -DLIBUV_BUILD_BENCH=OFF -DBUILD_TESTING=OFF >/dev/null
  cmake --build "$WORK/build" -j"$(nproc)" >/dev/null
  cmake --install "$WORK/build" --prefix "$STAGE" >/dev/null

  # Header-only dependencies, copied from the host packages (same versions as native builds).
  mkdir -p "$STAGE/include"
  cp -a /usr/include/CLI "$STAGE/include/"
  cp -a /usr/include/nlohmann "$STAGE/include/"
  cp -a /usr/include/doctest "$STAGE/include/"
  cp -a /usr/include/toml++ "$STAGE/include/"
  cp -a /usr/include/xxhash.h "$STAGE/include/"  # hvterm cp's checksum, used header-only
  # Their CMake packages too (CLI11::CLI11, doctest::doctest, doctest_discover_tests), made
  # relative to the prefix so they never add the host's /usr/include.
  if [ -d /usr/share/cmake/CLI11 ]; then
    mkdir -p "$STAGE/share/cmake" && cp -a /usr/share/cmake/CLI11 "$STAGE/share/cmake/"
  fi
  if [ -d /usr/lib/cmake/doctest ]; then
    mkdir -p "$STAGE/lib/cmake" && cp -a /usr/lib/cmake/doctest "$STAGE/lib/cmake/"
    # shellcheck disable=SC2016  # ${...} is CMake syntax, not shell
    sed -i 's|^set(_IMPORT_PREFIX "/usr")$|get_filename_component(_IMPORT_PREFIX "${CMAKE_CURRENT_LIST_DIR}/../../.." ABSOLUTE)|' \
      "$STAGE/lib/cmake/doctest/doctestTargets.cmake"
  fi
  echo "$STAMP_WANT" >"$STAGE/.hvterm-stamp"
  basename "$DSC" .dsc >"$STAGE/.hvterm-libuv-source"

  rm -rf "$PREFIX.old"
  if [ -d "$PREFIX" ]; then mv "$PREFIX" "$PREFIX.old"; fi
  mv "$STAGE" "$PREFIX"
  rm -rf "$PREFIX.old"
  # Safety net: no text file of the prefix may name the staging directory.
  find "$PREFIX" -type f \( -name '*.pc' -o -name '*.cmake' \) -exec sed -i "s|$STAGE|$PREFIX|g" {} +
  log "built $(cat "$PREFIX/.hvterm-libuv-source")"
fi

# --- 3. results -----------------------------------------------------------------------------
{
  echo "HVTERM_WIN_DEPS_PREFIX=$PREFIX"
  echo "HVTERM_WIN_INCLUDE_DIR=$PREFIX/include"
  echo "HVTERM_WIN_CLI11_INCLUDE_DIR=$PREFIX/include"
  echo "HVTERM_WIN_DOCTEST_INCLUDE_DIR=$PREFIX/include"
  echo "HVTERM_WIN_LIBUV_CMAKE_DIR=$PREFIX/lib/cmake/libuv"
} >&3
