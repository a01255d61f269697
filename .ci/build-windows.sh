#!/usr/bin/env bash
# Cross-build hvterm for Windows (MinGW-w64) and run its tests under Wine.
#
#   .ci/build-windows.sh [extra ctest args...]
#
# Environment:
#   HVTERM_WIN_BUILD_DIR   build directory (default: build-win, relative to the repo root)
#   HVTERM_WIN_DEPS        dependency cache (default: $HOME/.cache/hvterm-win-deps)
#   HVTERM_WINE_KEEP=1     leave the wineserver running afterwards (faster re-runs by hand)
#   HVTERM_WIN_CMAKE_ARGS  extra arguments for the configure step
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
BUILD_DIR="${HVTERM_WIN_BUILD_DIR:-build-win}"

log() { printf '[build-windows] %s\n' "$*" >&2; }

# 1. toolchain, Wine, libuv for Windows, CLI11/doctest headers -> HVTERM_WIN_DEPS_PREFIX
deps_out="$(bash .ci/windows-deps.sh)"
eval "$deps_out"
export HVTERM_WIN_DEPS_PREFIX
log "deps prefix: $HVTERM_WIN_DEPS_PREFIX"

# 2. Wine prefix and a persistent wineserver (must come before the build: test discovery
#    may run the test executables under Wine at build time).
# shellcheck source=.ci/wine-env.sh
. .ci/wine-env.sh
if [ "${HVTERM_WINE_KEEP:-0}" != 1 ]; then
  trap 'hvterm_wine_stop' EXIT
fi

# 3. configure, build, test
ARGS=()
if [ ! -f "$BUILD_DIR/CMakeCache.txt" ] && command -v ninja >/dev/null; then ARGS+=(-G Ninja); fi
if [ -n "${CMAKE_BUILD_TYPE:-}" ]; then ARGS+=(-DCMAKE_BUILD_TYPE="$CMAKE_BUILD_TYPE"); fi
# shellcheck disable=SC2086
cmake -S . -B "$BUILD_DIR" "${ARGS[@]}" \
  -DCMAKE_TOOLCHAIN_FILE="$ROOT/cmake/toolchain-mingw-w64.cmake" \
  -DCMAKE_PREFIX_PATH="$HVTERM_WIN_DEPS_PREFIX" \
  -DHVTERM_WERROR=ON ${HVTERM_WIN_CMAKE_ARGS:-}
cmake --build "$BUILD_DIR" -j"$(nproc)"
ctest --test-dir "$BUILD_DIR" --output-on-failure --timeout "${HVTERM_WIN_TEST_TIMEOUT:-120}" "$@"
