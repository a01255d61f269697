#!/usr/bin/env bash
# Installs what the tests need, builds, and runs every test tier:
#   0. the C++ sources follow .clang-format (tools/format.sh --check; seconds)
#   1. unit + end-to-end tests (warnings are errors)
#   2. soak and load (tests/soak, ~3 min): 10,000 execs leave no session, fd or memory behind;
#      64 transfers through a relay that cuts connections at random arrive exact; a hostile peer
#      does not slow normal clients beyond 2x or grow the agent's memory
#   3. the unit, end-to-end and soak tests under AddressSanitizer + UndefinedBehaviorSanitizer
#   4. real AF_VSOCK inside a throw-away QEMU guest (tests/guest)
#   5. a real vsock host and guest: a QEMU VM with vhost-vsock running a nested QEMU guest, paused
#      and snapshotted/restored for real (tests/vm, 5-10 min)
#   6. the Windows build, cross-compiled with MinGW-w64, tested under Wine
#   7. libFuzzer on the frame decoder, the message decoders and the hybrid handshake (20 s each)
#   8. the build a POSIX system other than Linux gets (-DHVTERM_GENERIC_POSIX=ON: platform/posix and
#      its no_*.cpp, no platform/linux), with the unit tests and the exec, shell and bad-input tests
# Set HVTERM_TIERS to a subset ("format unit soak asan guest vm windows fuzz generic") to run fewer.
set -euo pipefail
cd "$(dirname "$0")/.."
tiers=${HVTERM_TIERS:-"format unit soak asan guest vm windows fuzz generic"}
# The build machine's own vsock is off limits: hvterm and hvtermd refuse it with this set. Real
# vsock is tested only inside the QEMU guest, which does not inherit this environment.
export HVTERM_NO_VSOCK=1
jobs=$(nproc)
bash tools/deps.sh test

# name, build dir, ctest selection regex, cmake args...; $exclude: a regex of tests to leave out,
# $verbose: show the output of passing tests too
run_tier() {
  local name=$1 dir=$2 select=$3
  shift 3
  echo "=== $name"
  cmake -S . -B "$dir" -G Ninja -DHVTERM_WERROR=ON "$@" >/dev/null
  cmake --build "$dir" -j "$jobs"
  ctest --test-dir "$dir" -j "$jobs" --output-on-failure --timeout 900 -R "$select" ${exclude:+-E "$exclude"} \
    ${verbose:+-V}
}

# The sanitizer and Windows trees are unity builds (several sources per compiler run): they take
# half the time. The unit tier's tree is not, so a missing #include in a portable file still fails
# there; one in a Windows-only file would show only in a non-unity Windows build
# (bash .ci/build-windows.sh, as a developer runs it).
unity=(-DCMAKE_UNITY_BUILD=ON)
fuzz_args=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DHVTERM_FUZZ=ON)
generic_args=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DHVTERM_GENERIC_POSIX=ON)
# The QEMU tiers keep about one of the two cores busy: the trees of the fuzz and generic tiers are
# built on the other one meanwhile (niced), so those tiers mostly just test. Whatever fails here is
# built again, and reported, by the tier itself.
prebuild_pid=
prebuild_log=$(mktemp /tmp/hvterm-prebuild.XXXXXX)
prebuild_later_tiers() {
  local want_fuzz=0 want_generic=0
  case " $tiers " in *" fuzz "*) want_fuzz=1 ;; esac
  case " $tiers " in *" generic "*) want_generic=1 ;; esac
  [ -z "$prebuild_pid" ] && [ $((want_fuzz + want_generic)) -gt 0 ] || return 0
  {
    if [ $want_fuzz = 1 ]; then
      CC=clang CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DHVTERM_WERROR=ON "${fuzz_args[@]}" &&
        nice -n 10 cmake --build build-fuzz -j 1
    fi
    if [ $want_generic = 1 ]; then
      cmake -S . -B build-generic -G Ninja -DHVTERM_WERROR=ON "${generic_args[@]}" &&
        nice -n 10 cmake --build build-generic -j 1
    fi
  } >"$prebuild_log" 2>&1 &
  prebuild_pid=$!
}
wait_for_prebuild() {
  [ -n "$prebuild_pid" ] || return 0
  wait "$prebuild_pid" || echo "(the build made during the QEMU tiers failed; the tier builds again)"
  prebuild_pid=
}
trap '[ -z "$prebuild_pid" ] || kill "$prebuild_pid" 2>/dev/null; rm -f "$prebuild_log"' EXIT

started=$SECONDS
for tier in $tiers; do
  echo "--- $tier tier starts at $((SECONDS - started)) s"
  case $tier in guest | vm) prebuild_later_tiers ;; fuzz | generic) wait_for_prebuild ;; esac
  case $tier in
    format)
      echo "=== the C++ sources follow .clang-format"
      bash tools/format.sh --check
      ;;
    unit) exclude='^soak_' run_tier "unit and end-to-end tests" build . -DCMAKE_BUILD_TYPE=RelWithDebInfo ;;
    soak) verbose=1 run_tier "soak and load tests (tests/soak)" build '^soak_' -DCMAKE_BUILD_TYPE=RelWithDebInfo ;;
    asan)
      export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
      run_tier "tests under ASan + UBSan" build-asan . -DCMAKE_BUILD_TYPE=Debug -DHVTERM_SANITIZE=ON \
        -DHVTERM_STATIC=OFF "${unity[@]}"
      unset ASAN_OPTIONS UBSAN_OPTIONS ;;
    guest)
      echo "=== real vsock in a QEMU guest"
      cmake -S . -B build -G Ninja -DHVTERM_WERROR=ON >/dev/null && cmake --build build -j "$jobs"
      bash tests/guest/run-guest-tests.sh --build build --timeout 600 ;;
    vm)
      echo "=== a real vsock host and guest: QEMU nested in QEMU, vhost-vsock, real pause and restore"
      cmake -S . -B build -G Ninja -DHVTERM_WERROR=ON >/dev/null && cmake --build build -j "$jobs"
      bash tests/vm/run-vm-tests.sh --build build ;;
    windows)
      echo "=== Windows (MinGW-w64 cross build, tests under Wine)"
      HVTERM_WIN_CMAKE_ARGS="${unity[*]}" bash .ci/build-windows.sh ;;
    fuzz)
      # The whole tree is built with clang (its warnings are errors too); only the fuzzers run.
      CC=clang CXX=clang++ run_tier "libFuzzer (clang)" build-fuzz '^fuzz_' "${fuzz_args[@]}" ;;
    generic)
      run_tier "a POSIX build without platform/linux" build-generic \
        '^(unit|e2e_exec|e2e_shell|e2e_local_target|e2e_bad_input)$' "${generic_args[@]}" ;;
    *) echo "tools/test.sh: unknown tier '$tier'" >&2; exit 2 ;;
  esac
done
echo "=== all tiers passed in $((SECONDS - started)) s: $tiers"
