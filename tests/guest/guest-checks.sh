#!/bin/sh
# guest-checks.sh: the checks that run INSIDE the throw-away QEMU guest.
#
# run-guest-tests.sh copies this file into the guest's initramfs as /checks.sh
# and /init runs it with busybox sh (no bash in the guest: write POSIX sh plus
# busybox applets).  The guest has real AF_VSOCK via vsock_loopback: CID 1
# (VMADDR_CID_LOCAL) loops back, and so does CID 2 (VMADDR_CID_HOST) because no
# host transport is loaded.
#
# Adding a check:
#   check NAME COMMAND [ARGS...]        a command or a shell function defined here
# It passes if COMMAND exits 0.  Each check prints "CHECK NAME: ok (Ns)",
# "CHECK NAME: FAIL rc=N" followed by the tail of its output, or
# "CHECK NAME: skip (why)".  The script exits non-zero if any check failed.
# CHECK_TIMEOUT (seconds, default 60) bounds each check.

set -u

if [ ! -e /.hvterm-guest-marker ]; then
    echo "guest-checks.sh: refusing to run: /.hvterm-guest-marker is missing." >&2
    echo "These checks use real AF_VSOCK and only run inside the QEMU test guest" >&2
    echo "that tests/guest/run-guest-tests.sh boots, never on a build machine." >&2
    exit 2
fi

CHECK_TIMEOUT=${CHECK_TIMEOUT:-60}
n_ok=0
n_fail=0
n_skip=0
failed_names=

# kill_tree PID: kill PID and all its descendants (busybox has no pkill -P).
kill_tree() {
    # shellcheck disable=SC2013 # one pid per word
    for _kt_child in $(awk -v p="$1" '$1 == "PPid:" && $2 == p { split(FILENAME, f, "/"); print f[3] }' \
                           /proc/[0-9]*/status 2>/dev/null); do
        kill_tree "$_kt_child"
    done
    kill -KILL "$1" 2>/dev/null
}

# check NAME COMMAND [ARGS...]
check() {
    _name=$1
    shift
    _log=/tmp/check.$_name.log
    _start=$(date +%s)
    ( "$@" ) >"$_log" 2>&1 </dev/null &
    _pid=$!
    ( sleep "$CHECK_TIMEOUT"; echo "*** timed out after ${CHECK_TIMEOUT}s" >>"$_log"; kill_tree "$_pid" ) \
        >/dev/null 2>&1 &
    _watchdog=$!
    wait "$_pid"
    _rc=$?
    kill_tree "$_watchdog"
    wait "$_watchdog" 2>/dev/null
    _secs=$(( $(date +%s) - _start ))
    if [ "$_rc" -eq 0 ]; then
        n_ok=$((n_ok + 1))
        echo "CHECK $_name: ok (${_secs}s)"
    else
        n_fail=$((n_fail + 1))
        failed_names="$failed_names $_name"
        echo "CHECK $_name: FAIL rc=$_rc (${_secs}s)"
        tail -n 30 "$_log" | sed 's/^/    | /'
    fi
}

# skip NAME WHY
skip() {
    n_skip=$((n_skip + 1))
    echo "CHECK $1: skip ($2)"
}

# have PROGRAM: is PROGRAM on PATH?
have() { command -v "$1" >/dev/null 2>&1; }

# retry TRIES DELAY COMMAND...: run COMMAND until it succeeds, at most TRIES times.
retry() {
    _tries=$1 _delay=$2
    shift 2
    while :; do
        "$@" && return 0
        _tries=$((_tries - 1))
        [ "$_tries" -gt 0 ] || return 1
        sleep "$_delay"
    done
}

# ---------------------------------------------------------------------------
# Check bodies (shell functions).  Keep them quiet on success; on failure say
# what was expected and what happened: their output is shown only on FAIL.

modules_loaded() {
    for m in vsock vmw_vsock_virtio_transport_common vsock_loopback; do
        [ -d "/sys/module/$m" ] || { echo "module $m not loaded"; lsmod; return 1; }
    done
    grep -q '^AF_VSOCK' /proc/net/protocols || { echo "no AF_VSOCK in /proc/net/protocols"; return 1; }
}

pty_available() {
    if ! { [ -c /dev/pts/ptmx ] && [ -e /dev/ptmx ]; }; then ls -l /dev/ptmx /dev/pts; return 1; fi
}

user_database() {
    if ! { [ "$(id -un)" = root ] && [ "$HOME" = /root ] && [ -d /root ]; }; then
        id
        echo "HOME=$HOME"
        return 1
    fi
}

# vsock_echo_roundtrip CID PORT: a socat echo server on VSOCK port PORT, then
# send 256 KiB of random bytes to CID:PORT and compare checksums.
vsock_echo_roundtrip() {
    _cid=$1 _port=$2
    head -c 262144 /dev/urandom >/tmp/vsock.in
    socat VSOCK-LISTEN:"$_port",reuseaddr,fork EXEC:cat &
    _srv=$!
    # A connect before the listener is up fails with ECONNRESET: retry.
    retry 50 0.1 sh -c "socat -t 5 -T 20 - VSOCK-CONNECT:$_cid:$_port </tmp/vsock.in >/tmp/vsock.out" 2>/dev/null
    _rc=$?
    kill_tree "$_srv"
    [ "$_rc" -eq 0 ] || { echo "socat client to $_cid:$_port failed"; return 1; }
    _want=$(sha256sum </tmp/vsock.in)
    _got=$(sha256sum </tmp/vsock.out)
    [ "$_want" = "$_got" ] || {
        echo "checksum mismatch: sent $(wc -c </tmp/vsock.in) bytes, got $(wc -c </tmp/vsock.out)"
        return 1
    }
}

# Connecting to a vsock port nobody listens on must fail (with ECONNRESET).
vsock_no_listener() {
    if echo x | socat -t 2 -T 5 - VSOCK-CONNECT:1:4999 >/tmp/vsock.nl 2>&1; then
        echo "connect to a port with no listener succeeded"
        return 1
    fi
    grep -qi 'reset\|refused' /tmp/vsock.nl || { cat /tmp/vsock.nl; return 1; }
}

# ---------------------------------------------------------------------------
# The checks, in order.

check marker test -e /.hvterm-guest-marker
check vsock-modules modules_loaded
check pty pty_available
check user-database user_database
check hvterm-version /bin/hvterm --version
check hvtermd-version /bin/hvtermd --version

if have socat; then
    check vsock-socat-local vsock_echo_roundtrip 1 1234
    check vsock-socat-host-cid vsock_echo_roundtrip 2 1235
    check vsock-socat-no-listener vsock_no_listener
else
    skip vsock-socat "socat not in the guest: add it with run-guest-tests.sh --extra /usr/bin/socat"
fi

# ---------------------------------------------------------------------------
echo "CHECKS: $n_ok ok, $n_fail failed, $n_skip skipped${failed_names:+ (failed:$failed_names)}"
[ "$n_fail" -eq 0 ]
