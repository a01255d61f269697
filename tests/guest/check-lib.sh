# shellcheck shell=sh
# check-lib.sh: the check runner the in-guest test scripts share (POSIX sh +
# busybox).  tests/guest/guest-checks.sh and tests/vm/vm-checks.sh source it
# from /lib/check-lib.sh, where the initramfs builders (initramfs-lib.sh) put it.
#
#   check NAME COMMAND [ARGS...]   run COMMAND (a program or a shell function)
#                                  with stdin from /dev/null, bounded by
#                                  CHECK_TIMEOUT seconds (default 60): prints
#                                  "CHECK NAME: ok (Ns)" or "CHECK NAME: FAIL
#                                  rc=N (Ns)" and the tail of its output
#   skip NAME WHY                  "CHECK NAME: skip (WHY)"
#   stderr_separate                a check both tiers run against the agent:
#                                  the sourcing script's hvx runs
#                                  `hvterm exec TARGET -- ARGS`
# n_ok, n_fail, n_skip and failed_names count the results.

CHECK_TIMEOUT=${CHECK_TIMEOUT:-60}
n_ok=0
n_fail=0
n_skip=0
failed_names=

# procs: one line per process: PID PPID STATE NAME.  Read through cat, which
# goes on past a process that exits while the list is read: busybox awk given
# the files itself stops at the first it cannot open, and would silently miss
# every process after it.
procs() {
    cat /proc/[0-9]*/status 2>/dev/null | awk '$1 == "Name:" { n = $2 } $1 == "State:" { s = $2 }
        $1 == "Pid:" { p = $2 } $1 == "PPid:" { print p, $2, s, n }'
}

# kill_tree PID: kill PID and all its descendants (busybox has no pkill -P).
# Each process is stopped before its children are listed and killed before
# they are, so it can neither fork new ones nor run on (e.g. the watchdog's
# "timed out" line) once its children are gone.
kill_tree() {
    kill -STOP "$1" 2>/dev/null || return 0
    # shellcheck disable=SC2013 # one pid per word
    _kt_children=$(procs | awk -v p="$1" '$2 == p { print $1 }')
    kill -KILL "$1" 2>/dev/null
    for _kt_child in $_kt_children; do
        kill_tree "$_kt_child"
    done
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

# uptime_ms: milliseconds since boot (busybox date has no %N)
uptime_ms() { awk '{ printf "%d\n", $1 * 1000 }' /proc/uptime; }

# one_line FILE WHAT: FILE holds exactly one non-empty line (a one-line reason)
one_line() {
    _n=$(wc -l <"$1")
    if [ "$_n" -ne 1 ] || [ -z "$(tr -d ' \n' <"$1")" ]; then
        echo "expected a one-line reason on stderr for $2, got $_n lines:"
        cat "$1"
        return 1
    fi
}

# stdout and stderr of `hvterm exec` stay apart, and the exit status comes through.
stderr_separate() {
    hvx sh -c 'echo out1; echo err1 >&2; echo out2; echo err2 >&2; exit 3' >/tmp/c.se.out 2>/tmp/c.se.err
    _rc=$?
    printf 'out1\nout2\n' >/tmp/c.se.want-out
    printf 'err1\nerr2\n' >/tmp/c.se.want-err
    if [ "$_rc" -eq 3 ] && cmp -s /tmp/c.se.out /tmp/c.se.want-out && cmp -s /tmp/c.se.err /tmp/c.se.want-err; then
        return 0
    fi
    echo "exit $_rc (want 3)"
    echo "stdout:"; cat /tmp/c.se.out
    echo "stderr:"; cat /tmp/c.se.err
    return 1
}
