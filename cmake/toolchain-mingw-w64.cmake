# CMake toolchain file: cross-compile for 64-bit Windows with MinGW-w64 (Debian's
# "posix" threads variant) and run target executables under Wine.
#
# Usage:
#   cmake -S . -B build-win -DCMAKE_TOOLCHAIN_FILE=cmake/toolchain-mingw-w64.cmake \
#         -DCMAKE_PREFIX_PATH=<deps prefix>
#
# The deps prefix (libuv built for Windows, plus CLI11 and doctest headers) is made by
# .ci/windows-deps.sh. It is taken, in this order, from the cache variable
# HVTERM_WIN_DEPS_PREFIX, the environment variable of the same name, or
# ${HVTERM_WIN_DEPS:-$HOME/.cache/hvterm-win-deps}/prefix. Every entry of
# CMAKE_PREFIX_PATH is added to CMAKE_FIND_ROOT_PATH as well, so any prefix passed on the
# command line is searchable.
#
# Executables are linked fully statically (libgcc, libstdc++, winpthread), so they need no
# MinGW DLLs next to them. CMAKE_CROSSCOMPILING_EMULATOR points at Wine's loader, so
# ctest (and add_custom_command with target executables) runs them under Wine.

set(CMAKE_SYSTEM_NAME Windows)
set(CMAKE_SYSTEM_VERSION 10.0)
set(CMAKE_SYSTEM_PROCESSOR AMD64)

set(HVTERM_MINGW_TRIPLE x86_64-w64-mingw32)

# Explicit -posix names: the un-suffixed names are alternatives that may point at the
# win32 threads variant (no std::thread / std::mutex there in GCC 12).
set(CMAKE_C_COMPILER   ${HVTERM_MINGW_TRIPLE}-gcc-posix)
set(CMAKE_CXX_COMPILER ${HVTERM_MINGW_TRIPLE}-g++-posix)
set(CMAKE_RC_COMPILER  ${HVTERM_MINGW_TRIPLE}-windres)
# CMake does not derive the binutils prefix from the "-posix" compiler names reliably.
find_program(CMAKE_AR      ${HVTERM_MINGW_TRIPLE}-gcc-ar-posix ${HVTERM_MINGW_TRIPLE}-ar)
find_program(CMAKE_RANLIB  ${HVTERM_MINGW_TRIPLE}-gcc-ranlib-posix ${HVTERM_MINGW_TRIPLE}-ranlib)
find_program(CMAKE_NM      ${HVTERM_MINGW_TRIPLE}-gcc-nm-posix ${HVTERM_MINGW_TRIPLE}-nm)
find_program(CMAKE_OBJCOPY ${HVTERM_MINGW_TRIPLE}-objcopy)
find_program(CMAKE_OBJDUMP ${HVTERM_MINGW_TRIPLE}-objdump)
find_program(CMAKE_STRIP   ${HVTERM_MINGW_TRIPLE}-strip)
find_program(CMAKE_DLLTOOL ${HVTERM_MINGW_TRIPLE}-dlltool)

# Static runtime: no libgcc_s_seh-1.dll, libstdc++-6.dll or libwinpthread-1.dll needed.
set(CMAKE_EXE_LINKER_FLAGS_INIT    "-static -static-libgcc -static-libstdc++")
set(CMAKE_SHARED_LINKER_FLAGS_INIT "-static -static-libgcc -static-libstdc++")
set(CMAKE_MODULE_LINKER_FLAGS_INIT "-static -static-libgcc -static-libstdc++")

# --- where the Windows dependencies live -------------------------------------------------
if(NOT HVTERM_WIN_DEPS_PREFIX)
  if(DEFINED ENV{HVTERM_WIN_DEPS_PREFIX} AND NOT "$ENV{HVTERM_WIN_DEPS_PREFIX}" STREQUAL "")
    set(HVTERM_WIN_DEPS_PREFIX "$ENV{HVTERM_WIN_DEPS_PREFIX}")
  elseif(DEFINED ENV{HVTERM_WIN_DEPS} AND NOT "$ENV{HVTERM_WIN_DEPS}" STREQUAL "")
    set(HVTERM_WIN_DEPS_PREFIX "$ENV{HVTERM_WIN_DEPS}/prefix")
  else()
    set(HVTERM_WIN_DEPS_PREFIX "$ENV{HOME}/.cache/hvterm-win-deps/prefix")
  endif()
endif()
set(HVTERM_WIN_DEPS_PREFIX "${HVTERM_WIN_DEPS_PREFIX}" CACHE PATH
    "Prefix holding libuv for Windows and the CLI11/doctest headers (see .ci/windows-deps.sh)")

set(CMAKE_FIND_ROOT_PATH /usr/${HVTERM_MINGW_TRIPLE} "${HVTERM_WIN_DEPS_PREFIX}")
foreach(_hvterm_p IN LISTS CMAKE_PREFIX_PATH)
  list(APPEND CMAKE_FIND_ROOT_PATH "${_hvterm_p}")
endforeach()
list(REMOVE_DUPLICATES CMAKE_FIND_ROOT_PATH)

# Programs (code generators, etc.) come from the build host; libraries, headers and CMake
# packages only from the target roots above, never from /usr/include or /usr/lib.
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# pkg-config fallback: only look at the Windows prefixes.
set(ENV{PKG_CONFIG_LIBDIR}
    "${HVTERM_WIN_DEPS_PREFIX}/lib/pkgconfig:/usr/${HVTERM_MINGW_TRIPLE}/lib/pkgconfig")
set(ENV{PKG_CONFIG_PATH} "")
set(ENV{PKG_CONFIG_SYSROOT_DIR} "")

# --- running target executables ----------------------------------------------------------
if(NOT CMAKE_CROSSCOMPILING_EMULATOR)
  if(DEFINED ENV{HVTERM_WINE} AND NOT "$ENV{HVTERM_WINE}" STREQUAL "")
    set(CMAKE_CROSSCOMPILING_EMULATOR "$ENV{HVTERM_WINE}")
  else()
    set(CMAKE_CROSSCOMPILING_EMULATOR /usr/lib/wine/wine64)
  endif()
endif()

# Let try_compile() projects see the same settings.
list(APPEND CMAKE_TRY_COMPILE_PLATFORM_VARIABLES HVTERM_WIN_DEPS_PREFIX)
