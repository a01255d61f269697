# shellcheck shell=bash
# Source this file (". .ci/wine-env.sh") before running Windows test executables under
# Wine, e.g. before ctest on a MinGW build (cmake/toolchain-mingw-w64.cmake sets
# CMAKE_CROSSCOMPILING_EMULATOR to Wine's loader).
#
# It exports WINEDEBUG, WINEDLLOVERRIDES, WINEARCH, WINEPREFIX (a dedicated prefix under
# ${HVTERM_WIN_DEPS:-$HOME/.cache/hvterm-win-deps}/wineprefix), HVTERM_WINE (the loader) and
# HVTERM_WINESERVER; starts a persistent wineserver; and boots the prefix once with every
# standard stream on /dev/null. Without that boot, the first test run starts Wine's
# background services (services.exe, winedevice, ...) which inherit ctest's output pipe, and
# ctest waits forever for it to close.
#
# hvterm_wine_stop stops the wineserver (and every Wine process of this prefix).
# It does not change the shell options of the shell that sources it.

hvterm_wine_stop() {
  if [ -n "${HVTERM_WINESERVER:-}" ] && [ -n "${WINEPREFIX:-}" ]; then
    "$HVTERM_WINESERVER" -k </dev/null >/dev/null 2>&1 || true
  fi
}

_hvterm_wine_setup() {
  local cache="${HVTERM_WIN_DEPS:-$HOME/.cache/hvterm-win-deps}"
  export WINEDEBUG=-all
  export WINEDLLOVERRIDES="mscoree,mshtml="
  export WINEARCH=win64
  export WINEPREFIX="${HVTERM_WINEPREFIX:-$cache/wineprefix}"
  export HVTERM_WINE="${HVTERM_WINE:-/usr/lib/wine/wine64}"
  if [ -z "${HVTERM_WINESERVER:-}" ]; then
    if [ -x /usr/lib/wine/wineserver ]; then HVTERM_WINESERVER=/usr/lib/wine/wineserver
    elif [ -x /usr/lib/wine/wineserver64 ]; then HVTERM_WINESERVER=/usr/lib/wine/wineserver64
    else HVTERM_WINESERVER="$(command -v wineserver || true)"
    fi
  fi
  export HVTERM_WINESERVER
  if [ ! -x "$HVTERM_WINE" ] || [ -z "$HVTERM_WINESERVER" ]; then
    echo "wine-env.sh: Wine not found (install wine64, or run .ci/windows-deps.sh)" >&2
    return 1
  fi
  # The server needs the prefix directory to exist; Wine fills an empty one on first use.
  mkdir -p "$WINEPREFIX" || return 1

  # Persistent server: stays up between test processes, so the prefix is not torn down
  # and re-initialised for every test. It daemonises itself; keep it off our pipes.
  "$HVTERM_WINESERVER" -p </dev/null >/dev/null 2>&1 || true

  # Boot the prefix (creates it on the first run, ~20 s; then well under a second) and start
  # its services with no inherited pipes.
  if ! timeout 300 "$HVTERM_WINE" cmd /c exit </dev/null >/dev/null 2>&1; then
    echo "wine-env.sh: '$HVTERM_WINE cmd /c exit' failed (WINEPREFIX=$WINEPREFIX)" >&2
    return 1
  fi

  # Report Windows 10 to programs (RtlGetVersion etc.), once per prefix.
  if [ ! -f "$WINEPREFIX/.hvterm-win10" ]; then
    timeout 120 "$HVTERM_WINE" winecfg -v win10 </dev/null >/dev/null 2>&1 &&
      touch "$WINEPREFIX/.hvterm-win10"
  fi
  return 0
}

_hvterm_wine_setup
_hvterm_wine_rc=$?
unset -f _hvterm_wine_setup
if [ "$_hvterm_wine_rc" != 0 ]; then
  unset _hvterm_wine_rc
  # shellcheck disable=SC2317
  return 1 2>/dev/null || exit 1
fi
unset _hvterm_wine_rc
