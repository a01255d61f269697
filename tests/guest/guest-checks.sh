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
#
# What is checked (the real hvterm and hvtermd over real AF_VSOCK):
#   agent listening on vsock with no --listen; ping via CID 1, CID 2 and a bare
#   CID, answering promptly; the agent logs the accepted peer CID; exec exit
#   codes 0 1 7 126 127 137 (the 126/127 reasons are one line); 48 MiB of
#   random bytes through `exec -- cat` and out of a command that then exits 5
#   (md5 and size); stdin EOF (half-close) and empty stdin; stderr apart from
#   stdout; `hvterm nc` to a TCP port in the guest (48 MiB through busybox
#   `nc -l -e cat` and back, exact, exit 0; a closed port: one line, 255); `hvterm forward -L`
#   and `-R` (4 MiB through each to busybox `nc -l -e cat`, exact; SIGINT: 130); `hvterm cp` of
#   a random 256 MiB file and of a tree (-r -p: nested and empty directories, empty files, a
#   symlink, names with spaces, a newline and a byte that is not UTF-8, and 5,000 small files)
#   pushed and pulled back, equal; an interactive shell on a PTY driven by /bin/ptydrive (stty size at
#   start and after a resize, typed command, ~. right after Enter detaches with
#   exit 0), then ls + attach finds the session as it was; exec -t; --allow-cid
#   refusing (client exit 255 with a one-line reason, the refusal logged with
#   the CID) both for an explicit list and for the default (2 only: inside the
#   guest every loopback peer is CID 1); connect errors (nothing listening,
#   no such CID: exit 255, one line, within the connect timeout); resume over
#   real vsock: 48 MiB piped into `exec -q -- md5sum` and 48 MiB out of
#   `sh -c 'cat big; exit 9'`, each through a socat relay whose connections are
#   killed 3 times mid-transfer, and 48 MiB pulled with `hvterm cp` the same way (the checksum, the exit status and the agent
#   seeing the client come back after every cut are all required); agent A
#   stopped (SIGSTOP) past the client's --dead-timeout while a session waits
#   for input typed meanwhile: "not responding", reconnect after SIGCONT,
#   "reconnected", the right output and exit status; the agents and the relay
#   survive everything with no zombie children or stray connections.
# Every hvterm call runs under `timeout`, so a hang fails its check instead of
# stalling the guest.  On any failure the agents' logs are printed at the end.

set -u

if [ ! -e /.hvterm-guest-marker ]; then
    echo "guest-checks.sh: refusing to run: /.hvterm-guest-marker is missing." >&2
    echo "These checks use real AF_VSOCK and only run inside the QEMU test guest" >&2
    echo "that tests/guest/run-guest-tests.sh boots, never on a build machine." >&2
    exit 2
fi

# shellcheck disable=SC1091 # written by run-guest-tests.sh
[ -r /etc/hvterm-guest.conf ] && . /etc/hvterm-guest.conf
# check, skip, have, retry, procs, kill_tree, uptime_ms, one_line
# shellcheck source-path=SCRIPTDIR source=check-lib.sh
. /lib/check-lib.sh

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

# ===========================================================================
# hvterm and hvtermd over real AF_VSOCK (vsock_loopback inside this guest).
#
# The client dials CID 1 (VMADDR_CID_LOCAL); with only the loopback transport
# loaded, CID 2 (VMADDR_CID_HOST) loops back too.  The agent sees every such
# connection coming from CID 1 (the loopback transport's local CID), which the
# accept checks below verify in the agent's log.

PORT=18518         # the default agent port (agent A listens there with no --listen)
PORT_DENY=18519    # agent B: --allow-cid 3, must refuse the loopback peer
PORT_DEFAULT=18520 # agent C: default --allow-cid (2, the host), must refuse CID 1 too
PORT_NONE=9999     # nothing listens here
T=vsock:1
LOG_A=/tmp/agent-a.log
LOG_B=/tmp/agent-b.log
LOG_C=/tmp/agent-c.log
HV_LIMIT=30       # seconds any single hvterm call may take
CP_LIMIT=240      # ... but a cp of 256 MiB or 5,000 files (under TCG; the check's own limit is CP_CHECK_LIMIT)
CP_CHECK_LIMIT=420
PD="ptydrive -t 15"
PID_A='' PID_B='' PID_C=''

# hv ARGS...: hvterm with a time limit (a hang is a failure, not a stuck guest)
hv() { timeout "$HV_LIMIT" hvterm "$@"; }

# hvx CMD...: hvterm exec on agent A
hvx() { hv exec --connect-timeout 5s "$T" -- "$@"; }

# start_agent LOG ARGS...: hvtermd in the background, debug log in LOG; sets AGENT_PID
start_agent() {
    _al=$1
    shift
    hvtermd --log-level debug "$@" </dev/null >"$_al.stdout" 2>"$_al" &
    AGENT_PID=$!
}

# agent_listening PID LOG WHAT: the agent is alive and logged "listening on WHAT"
agent_listening() {
    _i=0
    while ! grep -q "listening on .*$3" "$2"; do
        kill -0 "$1" 2>/dev/null || { echo "hvtermd (pid $1) died:"; cat "$2"; return 1; }
        _i=$((_i + 1))
        [ "$_i" -lt 100 ] || { echo "no 'listening on ...$3' log line within 10 s:"; cat "$2"; return 1; }
        sleep 0.1
    done
}

# agent_alive PID LOG: still running, and none of its children is a zombie
agent_alive() {
    kill -0 "$1" 2>/dev/null || { echo "hvtermd (pid $1) is gone; its log:"; tail -n 30 "$2"; return 1; }
    _z=$(procs | awk -v p="$1" '$2 == p && $3 == "Z" { print $1 }')
    [ -z "$_z" ] || { echo "zombie children of hvtermd: $_z"; return 1; }
}

# ---- agent A: accepting -----------------------------------------------------

agent_a_up() { agent_listening "$PID_A" "$LOG_A" "$PORT"; }

# ping_ok TARGET [OPTIONS...]: the agent answers and ping says so on stdout
ping_ok() {
    _tgt=$1
    shift
    hv ping "$@" "$_tgt" >/tmp/c.ping.out 2>/tmp/c.ping.err
    _rc=$?
    [ "$_rc" -eq 0 ] || { echo "hvterm ping $* $_tgt: exit $_rc, expected 0"; cat /tmp/c.ping.err; return 1; }
    grep -q 'hvtermd.* answered from' /tmp/c.ping.out ||
        { echo "hvterm ping $* $_tgt printed no answer line:"; cat /tmp/c.ping.out; return 1; }
}

# ping_prompt: a ping returns as soon as the agent answers, not when the
# connect timeout (5 s here) runs out
ping_prompt() {
    _t0=$(uptime_ms)
    ping_ok vsock:1 --connect-timeout 5s || return 1
    _ms=$(($(uptime_ms) - _t0))
    [ "$_ms" -le 2500 ] && return 0
    echo "hvterm ping --connect-timeout 5s vsock:1 took ${_ms} ms (limit 2500 ms):"
    cat /tmp/c.ping.out
    return 1
}

# the agent logged the accepted connection with the loopback peer CID (1)
accept_logged() {
    grep -q 'connection from cid 1 port [0-9]' "$LOG_A" || {
        echo "agent A's log has no 'connection from cid 1 port N':"
        tail -n 20 "$LOG_A"
        return 1
    }
    if grep -q 'refused' "$LOG_A"; then echo "agent A refused something:"; grep refused "$LOG_A"; return 1; fi
}

# ---- exec -------------------------------------------------------------------

# exec_status WANT CMD...: hvterm exec returns the remote command's status
exec_status() {
    _want=$1
    shift
    hvx "$@" >/tmp/c.es.out 2>/tmp/c.es.err
    _rc=$?
    if [ "$_rc" -ne "$_want" ]; then
        echo "hvterm exec $T -- $*: exit $_rc, expected $_want"
        echo "stderr:"
        cat /tmp/c.es.err
        return 1
    fi
    case $_want in
        126 | 127)
            one_line /tmp/c.es.err "exit $_want" || return 1
            grep -q "$1" /tmp/c.es.err || { echo "the reason does not name $1:"; cat /tmp/c.es.err; return 1; } ;;
        *) [ ! -s /tmp/c.es.err ] || { echo "unexpected stderr:"; cat /tmp/c.es.err; return 1; } ;;
    esac
}

BIG=/tmp/big.in
# Large enough that the resume checks' three cuts (at 1/8, 2/8 and 3/8 of it) each land
# mid-transfer: the client reads ahead up to 2 MiB, and a cut and reconnection take ~0.25 s
# in which a transfer under TCG moves ~4 MB.
BIG_SIZE=50331648

# same_file WANT GOT: equal size and md5
same_file() {
    _ws=$(wc -c <"$1") _gs=$(wc -c <"$2")
    _wm=$(md5sum <"$1") _gm=$(md5sum <"$2")
    [ "$_ws" -eq "$_gs" ] && [ "$_wm" = "$_gm" ] && return 0
    echo "sent $_ws bytes (md5 ${_wm%% *}), got $_gs bytes (md5 ${_gm%% *})"
    return 1
}

# 48 MiB of random bytes through `exec -- cat` and back
binary_roundtrip() {
    [ "$(wc -c <"$BIG")" -eq "$BIG_SIZE" ] || { echo "could not make $BIG"; return 1; }
    hvx cat <"$BIG" >/tmp/c.big.out 2>/tmp/c.big.err
    _rc=$?
    [ "$_rc" -eq 0 ] || { echo "hvterm exec -- cat: exit $_rc"; cat /tmp/c.big.err; return 1; }
    same_file "$BIG" /tmp/c.big.out
    _rc=$?
    rm -f /tmp/c.big.out  # the guest's memory is its disk: the checks after this one need the room
    return "$_rc"
}

# hvterm nc to a TCP port inside the guest over real vsock: 48 MiB through `nc -l -e cat` and back,
# exact, and the guest side's end (cat exits after our EOF) is a clean exit 0
nc_roundtrip() {
    nc -l -p 7777 -e cat </dev/null >/tmp/c.ncl.out 2>&1 &
    _srv=$!
    _n=0
    until netstat -ltn 2>/dev/null | grep -q ':7777 '; do
        _n=$((_n + 1))
        [ "$_n" -le 100 ] || { echo "nc -l -p 7777 never listened:"; cat /tmp/c.ncl.out; kill "$_srv"; return 1; }
        sleep 0.1
    done
    hv nc --connect-timeout 5s "$T" 7777 <"$BIG" >/tmp/c.nc.out 2>/tmp/c.nc.err  # localhost, no resolver
    _rc=$?
    wait "$_srv"
    [ "$_rc" -eq 0 ] || { echo "hvterm nc: exit $_rc"; cat /tmp/c.nc.err; rm -f /tmp/c.nc.out; return 1; }
    same_file "$BIG" /tmp/c.nc.out
    _rc=$?
    rm -f /tmp/c.nc.out  # the guest's memory is its disk: the checks after this one need the room
    return "$_rc"
}

# hvterm nc to a port nothing listens on: one line, 255
nc_refused() {
    hv nc --connect-timeout 5s "$T" 127.0.0.1:7778 </dev/null >/tmp/c.ncr.out 2>/tmp/c.ncr.err
    _rc=$?
    [ "$_rc" -eq 255 ] || { echo "hvterm nc to a closed port: exit $_rc, expected 255"; cat /tmp/c.ncr.err; return 1; }
    one_line /tmp/c.ncr.err nc || return 1
    grep -q 'connection refused' /tmp/c.ncr.err || { echo "no 'connection refused':"; cat /tmp/c.ncr.err; return 1; }
}

# A guest service `nc -l -p PORT -e cat` in the background; waits until it listens. $_srv: its pid.
echo_service() {
    nc -l -p "$1" -e cat </dev/null >"/tmp/c.svc$1.out" 2>&1 &
    _srv=$!
    _n=0
    until netstat -ltn 2>/dev/null | grep -q ":$1 "; do
        _n=$((_n + 1))
        [ "$_n" -le 100 ] || { echo "nc -l -p $1 never listened:"; cat "/tmp/c.svc$1.out"; kill "$_srv"; return 1; }
        sleep 0.1
    done
}

# hvterm forward -L and -R over real vsock: 4 MiB (a part of $BIG) through each, exact. Every leg is
# real: hvterm nc's connection reaches the -L port (or the agent's -R listener), whose connections
# go through the agent again to a busybox `nc -l -e cat`.
forward_l_and_r() {
    head -c 4194304 "$BIG" >/tmp/c.fw.in
    echo_service 7781 || return 1
    _srv1=$_srv
    echo_service 7784 || return 1
    _srv2=$_srv
    timeout 120 hvterm forward "$T" -L 7782:7781 -R 7783:127.0.0.1:7784 >/dev/null 2>/tmp/c.fw.err &
    _fw=$!
    _n=0
    until [ "$(grep -c '^hvterm: forwarding' /tmp/c.fw.err)" -eq 2 ]; do
        _n=$((_n + 1))
        [ "$_n" -le 300 ] || { echo "hvterm forward never said it forwards:"; cat /tmp/c.fw.err; kill "$_fw"; return 1; }
        sleep 0.1
    done
    _rc=0
    for _port in 7782 7783; do
        hv nc --connect-timeout 5s "$T" "127.0.0.1:$_port" </tmp/c.fw.in >/tmp/c.fw.out 2>/tmp/c.fw.nc.err
        _nc=$?
        [ "$_nc" -eq 0 ] || { echo "hvterm nc to the forward on $_port: exit $_nc"; cat /tmp/c.fw.nc.err; _rc=1; }
        same_file /tmp/c.fw.in /tmp/c.fw.out || { echo "(through port $_port)"; _rc=1; }
    done
    kill -INT "$_fw"
    wait "$_fw"
    _st=$?
    [ "$_st" -eq 130 ] || { echo "hvterm forward after SIGINT: exit $_st, expected 130"; cat /tmp/c.fw.err; _rc=1; }
    kill "$_srv1" "$_srv2" 2>/dev/null
    wait "$_srv1" "$_srv2" 2>/dev/null
    rm -f /tmp/c.fw.in /tmp/c.fw.out
    return "$_rc"
}

# 48 MiB of output then exit 5: the status comes after all the output
output_then_status() {
    hvx sh -c "cat $BIG; exit 5" >/tmp/c.ots.out 2>/tmp/c.ots.err
    _rc=$?
    [ "$_rc" -eq 5 ] || { echo "exit $_rc, expected 5"; cat /tmp/c.ots.err; return 1; }
    same_file "$BIG" /tmp/c.ots.out
}

stdin_eof() {
    _got=$(printf abc | hvx wc -c 2>/tmp/c.eof.err)
    _rc=$?
    _got=$(printf %s "$_got" | tr -d ' \t\n') # busybox wc may pad
    [ "$_rc" -eq 0 ] && [ "$_got" = 3 ] && return 0
    echo "printf abc | hvterm exec $T -- wc -c: exit $_rc, printed '$_got', expected 3"
    cat /tmp/c.eof.err
    return 1
}

stdin_empty() {
    hvx cat </dev/null >/tmp/c.empty.out 2>/tmp/c.empty.err
    _rc=$?
    [ "$_rc" -eq 0 ] && [ ! -s /tmp/c.empty.out ] && return 0
    echo "hvterm exec -- cat </dev/null: exit $_rc, $(wc -c </tmp/c.empty.out) bytes out"
    cat /tmp/c.empty.err
    return 1
}

# ---- interactive, on a PTY (ptydrive plays the person at the keyboard) ------

# shell on a 37x101 PTY: stty size, typed command, resize, then ~. right
# after Enter detaches (client exit 0).  The first line is typed before the
# client is connected (type-ahead), as an impatient person would.
shell_pty() {
    $PD -s 37x101 -x 0 -o /tmp/c.shell.out \
        "send:PS1='P''S> '\r" 'expect:PS> ' \
        'send:stty size\r' 'expect:\n37 101\r\n' 'expect:PS> ' \
        'send:echo hel""lo\r' 'expect:\nhello\r\n' 'expect:PS> ' \
        'resize:50x132' 'sleep:300' \
        'send:stty size\r' 'expect:\n50 132\r\n' 'expect:PS> ' \
        'send:MARK=kept-across-detach\r' 'expect:PS> ' \
        'send:\r~.' 'expect:detached' \
        -- hvterm shell "$T" -- sh
}

# the detached session is listed; reattaching (on another size) finds it as it
# was; `exit 4` ends it and the client with 4
# shellcheck disable=SC2016 # $MARK is for the remote shell
shell_reattach() {
    hv ls --connect-timeout 3s "$T" >/tmp/c.ls.out 2>&1 || { echo "hvterm ls failed:"; cat /tmp/c.ls.out; return 1; }
    grep -q ' detached .* sh$' /tmp/c.ls.out || { echo "hvterm ls shows no detached sh session:"; cat /tmp/c.ls.out; return 1; }
    $PD -s 30x90 -x 4 -o /tmp/c.attach.out \
        'expect:attached to session' 'expect:PS> ' \
        'send:echo "mark=$MARK"\r' 'expect:mark=kept-across-detach\r\n' 'expect:PS> ' \
        'send:stty size\r' 'expect:\n30 90\r\n' 'expect:PS> ' \
        'send:exit 4\r' \
        -- hvterm attach "$T"
}

# exec -t gives the command a PTY of the client's size
exec_tty() {
    $PD -s 33x77 -x 0 'expect:33 77' -- hvterm exec -t "$T" -- stty size
}

# ---- resume after a cut connection, through a relay that can be cut ---------
#
# A socat relay (started below, next to the agents) listens on vsock port
# RELAY_PORT and forks one child per connection that connects on to agent A.
# Killing those children (never the listening parent) cuts the client's
# connection mid-transfer, as a VM migration or a reset would; the client
# reconnects through the relay and both sides resume where they were.  Each
# cut waits for the previous reconnection to reach the agent, and is made once
# the transfer has passed a further eighth of its bytes, with the client
# stopped, so every cut lands in the middle of the transfer however fast or
# slowly this machine runs (see cut_during).  A check that made fewer cuts, or
# after which the agent did not see the client come back each time, fails.

RELAY_PORT=18600
RELAY=vsock:1:$RELAY_PORT
PID_RELAY=''
CUTS=3

# relay_children: the live (not zombie) children of the relay = its connections
relay_children() { procs | awk -v p="$PID_RELAY" '$2 == p && $3 != "Z" { print $1 }'; }

# cut_relay: kill every connection the relay carries; fails if there was none
cut_relay() {
    _cr_n=0
    for _cr_c in $(relay_children); do
        kill -KILL "$_cr_c" 2>/dev/null && _cr_n=$((_cr_n + 1))
    done
    [ "$_cr_n" -gt 0 ]
}

# agent_conns: how many connections agent A has accepted so far
agent_conns() { grep -c '^hvtermd: debug: connection from cid 1 port [0-9]*$' "$LOG_A"; }

# relay_up: hvterm ping through the relay reaches agent A
relay_up() {
    kill -0 "$PID_RELAY" 2>/dev/null || { echo "the socat relay (pid $PID_RELAY) is not running"; return 1; }
    retry 50 0.1 ping_ok "$RELAY" --connect-timeout 3s
}

# fd_pos PID FD GONE: the file offset of PID's FD; GONE once PID has exited
fd_pos() { awk '$1 == "pos:" { print $2; exit }' "/proc/$1/fdinfo/$2" 2>/dev/null || echo "$3"; }

file_size() { stat -c %s "$1" 2>/dev/null || echo 0; }

# running PID: PID exists and has not exited (kill -0 succeeds on a zombie)
running() {
    _st=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
    _st=${_st##*) }
    [ "${_st%% *}" != Z ]
}

# hvterm_pid PID: PID if it is hvterm (busybox timeout execs its command),
# else PID's hvterm child (a timeout that forks)
hvterm_pid() {
    _hp_i=0
    while :; do
        [ "$(cat "/proc/$1/comm" 2>/dev/null)" = hvterm ] && { echo "$1"; return 0; }
        _hp_c=$(procs | awk -v p="$1" '$2 == p && $4 == "hvterm" { print $1; exit }')
        [ -n "$_hp_c" ] && { echo "$_hp_c"; return 0; }
        _hp_i=$((_hp_i + 1))
        [ "$_hp_i" -lt 100 ] || { echo "$1"; return 1; }
        sleep 0.02
    done
}

# cut_during CLIENT_PID PROGRESS_CMD...: while the client runs, cut the relay's
# connections CUTS times, the k-th cut once PROGRESS_CMD (prints a byte count)
# passes k/(2*CUTS+2) of BIG_SIZE, each after the previous reconnection
# reached agent A.  The client is stopped (SIGSTOP) while the progress is read
# and while the cut is made, so the transfer cannot end between the two
# however slowly this script runs: a cut made is a cut mid-transfer.
# Prints the number of cuts made on fd 3 and a trace (ms since boot) on stdout.
cut_during() {
    _cd_pid=$(hvterm_pid "$1")
    shift
    _cd_done=0
    _cd_p=0
    echo "$(uptime_ms) start (client pid $_cd_pid)"
    # The client reads stdin ahead before it has connected (up to its 1 MiB window, and a full
    # stdin pipe is widened to 1 MiB), so progress alone can pass the first threshold while there
    # is nothing to cut yet: wait for the connection through the relay first.
    _cd_i=0
    until [ -n "$(relay_children)" ] || ! running "$_cd_pid"; do
        _cd_i=$((_cd_i + 1))
        [ "$_cd_i" -lt 500 ] || { echo "$(uptime_ms) no connection through the relay within 10 s"; break; }
        sleep 0.02
    done
    while [ "$_cd_done" -lt "$CUTS" ]; do
        _cd_at=$((BIG_SIZE * (_cd_done + 1) / (2 * CUTS + 2)))
        while :; do
            kill -STOP "$_cd_pid" 2>/dev/null
            running "$_cd_pid" || { echo "$(uptime_ms) the client ended at progress $_cd_p"; break 3; }
            _cd_p=$("$@")
            [ "$_cd_p" -lt "$_cd_at" ] || break
            kill -CONT "$_cd_pid"
            sleep 0.02
        done
        _cd_before=$(agent_conns)
        if ! cut_relay; then
            kill -CONT "$_cd_pid"
            echo "$(uptime_ms) cut $((_cd_done + 1)): the relay carried no connection at progress $_cd_p (threshold $_cd_at)"
            # shellcheck disable=SC2009 # busybox pgrep cannot list parent and state
            ps -o pid,ppid,stat,args | grep -v ' \[.*\]$'
            break
        fi
        kill -CONT "$_cd_pid"
        _cd_done=$((_cd_done + 1))
        echo "$(uptime_ms) cut $_cd_done at progress $_cd_p (threshold $_cd_at)"
        # the client reconnects through the relay: wait until agent A sees it
        _cd_i=0
        while [ "$(agent_conns)" -le "$_cd_before" ]; do
            running "$_cd_pid" || { echo "$(uptime_ms) the client ended without reconnecting"; break 2; }
            _cd_i=$((_cd_i + 1))
            [ "$_cd_i" -lt 500 ] || { echo "$(uptime_ms) cut $_cd_done: no reconnection reached the agent within 10 s"; break 2; }
            sleep 0.02
        done
        echo "$(uptime_ms) reconnected"
    done
    kill -CONT "$_cd_pid" 2>/dev/null
    echo "$(uptime_ms) done: $_cd_done cuts"
    echo "$_cd_done" >&3
}

# cuts_verified CUTS_MADE CONNS_BEFORE: all CUTS cuts were made mid-transfer and
# agent A saw the client come back after each (at least CUTS+1 connections)
cuts_verified() {
    _cv_conns=$(($(agent_conns) - $2))
    if [ "$1" -ne "$CUTS" ] || [ "$_cv_conns" -lt $((CUTS + 1)) ]; then
        echo "made $1 of $CUTS cuts mid-transfer; agent A accepted $_cv_conns connections (want >= $((CUTS + 1)))"
        return 1
    fi
}

# 48 MiB of random bytes piped into `exec -- md5sum` through the relay, cut
# CUTS times; the progress is how far cat has read the file into the pipe
upload_cut() {
    _want=$(md5sum <"$BIG")
    _c0=$(agent_conns)
    cat <"$BIG" >/tmp/up.fifo &
    _cat=$!
    timeout "$HV_LIMIT" hvterm exec -q "$RELAY" -- md5sum </tmp/up.fifo >/tmp/c.up.out 2>/tmp/c.up.err &
    _hv=$!
    _cuts=$(cut_during "$_hv" fd_pos "$_cat" 0 "$BIG_SIZE" 3>&1 >/tmp/c.up.cuts)
    wait "$_hv"
    _rc=$?
    wait "$_cat"
    cat /tmp/c.up.cuts
    [ "$_rc" -eq 0 ] || { echo "cat big | hvterm exec -q $RELAY -- md5sum: exit $_rc, expected 0"; cat /tmp/c.up.err; return 1; }
    _got=$(cat /tmp/c.up.out)
    [ "$_got" = "$_want" ] || { echo "remote md5sum printed '$_got', want '$_want'"; cat /tmp/c.up.err; return 1; }
    [ ! -s /tmp/c.up.err ] || { echo "unexpected stderr with -q:"; cat /tmp/c.up.err; return 1; }
    cuts_verified "$_cuts" "$_c0"
}

# 48 MiB out of `cat` then exit 9 through the relay, cut CUTS times; the
# progress is the size of the client's output file
download_cut() {
    _c0=$(agent_conns)
    timeout "$HV_LIMIT" hvterm exec -q "$RELAY" -- sh -c "cat $BIG; exit 9" >/tmp/c.down.out 2>/tmp/c.down.err &
    _hv=$!
    _cuts=$(cut_during "$_hv" file_size /tmp/c.down.out 3>&1 >/tmp/c.down.cuts)
    wait "$_hv"
    _rc=$?
    cat /tmp/c.down.cuts
    [ "$_rc" -eq 9 ] || { echo "hvterm exec -q $RELAY -- sh -c 'cat big; exit 9': exit $_rc, expected 9"; cat /tmp/c.down.err; return 1; }
    same_file "$BIG" /tmp/c.down.out || return 1
    rm -f /tmp/c.down.out  # room for the checks after this one
    [ ! -s /tmp/c.down.err ] || { echo "unexpected stderr with -q:"; cat /tmp/c.down.err; return 1; }
    cuts_verified "$_cuts" "$_c0"
}

# hvterm cp over real vsock: a random 256 MiB file pushed to agent A's side and pulled back, exact
# both ways. The guest's memory is its disk: the source goes (its size and md5 kept) before the pull.
cp_file_both_ways() {
    rm -f /tmp/c.cp.in /tmp/c.cp.pushed /tmp/c.cp.pulled
    head -c 268435456 /dev/urandom >/tmp/c.cp.in
    _want="$(wc -c </tmp/c.cp.in) $(md5sum </tmp/c.cp.in)"
    timeout "$CP_LIMIT" hvterm cp -q /tmp/c.cp.in "$T:/tmp/c.cp.pushed" 2>/tmp/c.cp.err ||
        { echo "hvterm cp push: exit $?"; cat /tmp/c.cp.err; return 1; }
    same_file /tmp/c.cp.in /tmp/c.cp.pushed || return 1
    rm -f /tmp/c.cp.in
    timeout "$CP_LIMIT" hvterm cp -q "$T:/tmp/c.cp.pushed" /tmp/c.cp.pulled 2>/tmp/c.cp.err ||
        { echo "hvterm cp pull: exit $?"; cat /tmp/c.cp.err; return 1; }
    _got="$(wc -c </tmp/c.cp.pulled) $(md5sum </tmp/c.cp.pulled)"
    rm -f /tmp/c.cp.pushed /tmp/c.cp.pulled
    [ "$_got" = "$_want" ] || { echo "pulled back: $_got, sent: $_want"; return 1; }
}

# tree_listing DIR: every entry's type, name, mode, and a file's size, time and content or a
# link's target, sorted (bytewise: one name is not UTF-8); bulk/ is left to bulk_listing
tree_listing() {
    (export LC_ALL=C && cd "$1" && find . ! -name . \( -path ./bulk -prune -o -print \) | sort | while IFS= read -r _tl; do
        if [ -L "$_tl" ]; then
            echo "link $_tl -> $(readlink "$_tl")"
        elif [ -d "$_tl" ]; then
            echo "dir $_tl $(stat -c %a "$_tl")"
        else
            echo "file $_tl $(stat -c '%a %s %Y' "$_tl") $(md5sum <"$_tl")"
        fi
    done)
}

# bulk_listing DIR: DIR/bulk's entries (name, mode, size, time, type) and its files' md5 sums, sorted;
# a few processes for thousands of files (a process per file is slow under TCG)
bulk_listing() {
    (cd "$1" && find ./bulk -exec stat -c '%n %a %s %Y %F' {} + | LC_ALL=C sort &&
        find ./bulk -type f -exec md5sum {} + | LC_ALL=C sort)
}

# hvterm cp -r -p over real vsock: a tree with nested directories, empty files, a symlink, a name
# with spaces, one with a newline, one that is not UTF-8, and 5,000 small files (bulk/: 50
# directories of 100, every tenth empty), pushed and pulled back; the listings are equal
cp_tree_both_ways() {
    rm -rf /tmp/c.tree /tmp/c.tree.pushed /tmp/c.tree.pulled
    mkdir -p "/tmp/c.tree/a/b c/d" /tmp/c.tree/empty-dir /tmp/c.tree/bulk
    head -c 100000 "$BIG" >"/tmp/c.tree/a/b c/d/data"
    : >/tmp/c.tree/a/empty
    echo hello >"/tmp/c.tree/with spaces"
    echo bytes >"/tmp/c.tree/$(printf 'latin1-\351')"
    echo lines >"/tmp/c.tree/bulk/new
line"  # in bulk/, whose listing takes names as arguments, not lines
    touch -d '2001-02-03 04:05:06' /tmp/c.tree/a/empty "/tmp/c.tree/with spaces"
    chmod 0750 /tmp/c.tree/a
    chmod 0600 /tmp/c.tree/a/empty
    ln -s "b c/d/data" /tmp/c.tree/a/link
    _i=0
    while [ "$_i" -lt 50 ]; do  # shell built-ins only: a process per file is slow under TCG
        mkdir "/tmp/c.tree/bulk/d$_i"
        _j=0
        while [ "$_j" -lt 100 ]; do
            if [ $((_j % 10)) -eq 0 ]; then : >"/tmp/c.tree/bulk/d$_i/f$_j"; else echo "file $_i $_j" >"/tmp/c.tree/bulk/d$_i/f$_j"; fi
            _j=$((_j + 1))
        done
        _i=$((_i + 1))
    done
    timeout "$CP_LIMIT" hvterm cp -q -r -p /tmp/c.tree "$T:/tmp/c.tree.pushed" 2>/tmp/c.cpt.err ||
        { echo "hvterm cp -r push: exit $?"; cat /tmp/c.cpt.err; return 1; }
    timeout "$CP_LIMIT" hvterm cp -q -r -p "$T:/tmp/c.tree.pushed" /tmp/c.tree.pulled 2>/tmp/c.cpt.err ||
        { echo "hvterm cp -r pull: exit $?"; cat /tmp/c.cpt.err; return 1; }
    tree_listing /tmp/c.tree >/tmp/c.tree.want
    bulk_listing /tmp/c.tree >/tmp/c.bulk.want
    [ "$(wc -l </tmp/c.tree.want)" -eq 9 ] || { echo "the source tree listing is not what was made:"; cat /tmp/c.tree.want; return 1; }
    [ "$(grep -c ' regular' /tmp/c.bulk.want)" -eq 5001 ] || { echo "bulk/ does not hold 5,001 files:"; head /tmp/c.bulk.want; return 1; }
    for _d in /tmp/c.tree.pushed /tmp/c.tree.pulled; do
        tree_listing "$_d" >/tmp/c.tree.got
        cmp -s /tmp/c.tree.want /tmp/c.tree.got || { echo "$_d differs from the source:"; diff /tmp/c.tree.want /tmp/c.tree.got; return 1; }
        bulk_listing "$_d" >/tmp/c.bulk.got
        cmp -s /tmp/c.bulk.want /tmp/c.bulk.got || { echo "$_d/bulk differs from the source:"; diff /tmp/c.bulk.want /tmp/c.bulk.got | head -20; return 1; }
    done
    rm -rf /tmp/c.tree /tmp/c.tree.pushed /tmp/c.tree.pulled
}

# cp_progress DIR NAME: how much of NAME has arrived in DIR (its temporary file until it is complete)
cp_progress() {
    [ -e "$1/$2" ] && { echo "$BIG_SIZE"; return; }
    _cp_s=$(stat -c %s "$1/.$2.hvterm-partial" "$1"/.hvterm-cp-* 2>/dev/null | head -n 1)
    echo "${_cp_s:-0}"
}

# the 48 MiB file pulled with hvterm cp through the relay, cut CUTS times: exact, exit 0, and no
# temporary file left
cp_pull_cut() {
    rm -rf /tmp/c.cpdst
    mkdir /tmp/c.cpdst
    _c0=$(agent_conns)
    timeout "$HV_LIMIT" hvterm cp -q -v "$RELAY:$BIG" /tmp/c.cpdst/ 2>/tmp/c.cpc.err &
    _hv=$!
    _cuts=$(cut_during "$_hv" cp_progress /tmp/c.cpdst "$(basename "$BIG")" 3>&1 >/tmp/c.cpc.cuts)
    wait "$_hv"
    _rc=$?
    cat /tmp/c.cpc.cuts
    [ "$_rc" -eq 0 ] || { echo "hvterm cp -q -v $RELAY:$BIG: exit $_rc, expected 0"; tail -n 30 /tmp/c.cpc.err; ls -la /tmp/c.cpdst; return 1; }
    same_file "$BIG" "/tmp/c.cpdst/$(basename "$BIG")" || return 1
    [ "$(ls -A /tmp/c.cpdst)" = "$(basename "$BIG")" ] || { echo "left in the destination:"; ls -la /tmp/c.cpdst; return 1; }
    rm -rf /tmp/c.cpdst
    cuts_verified "$_cuts" "$_c0"
}

# hvterm cp --resume over real vsock: the 48 MiB file pushed to agent A, the client killed once a
# quarter has arrived; the same copy with --resume sends only the rest (its summary says how much was
# resumed), and the file is exact with nothing left beside it
cp_resume_after_kill() {
    rm -rf /tmp/c.cpr
    mkdir /tmp/c.cpr
    _name=$(basename "$BIG")
    hvterm cp -q "$BIG" "$T:/tmp/c.cpr/" 2>/tmp/c.cpr.err &  # no timeout(1): the kill must reach hvterm
    _hv=$!
    _quarter=$((BIG_SIZE / 4))
    while running "$_hv" && [ "$(cp_progress /tmp/c.cpr "$_name")" -lt "$_quarter" ]; do sleep 0.01; done
    running "$_hv" || { echo "the copy ended before it could be killed at a quarter"; cat /tmp/c.cpr.err; return 1; }
    kill -9 "$_hv"
    wait "$_hv" 2>/dev/null
    [ ! -e "/tmp/c.cpr/$_name" ] || { echo "the killed copy left its final name"; return 1; }
    hv cp --resume --progress "$BIG" "$T:/tmp/c.cpr/" 2>/tmp/c.cpr.err || { echo "hvterm cp --resume: exit $?"; cat /tmp/c.cpr.err; return 1; }
    tail -n 1 /tmp/c.cpr.err
    tail -n 1 /tmp/c.cpr.err | grep -q "MiB of it resumed from partial files" || { echo "nothing was resumed"; return 1; }
    same_file "$BIG" "/tmp/c.cpr/$_name" || return 1
    [ "$(ls -A /tmp/c.cpr)" = "$_name" ] || { echo "left in the destination:"; ls -la /tmp/c.cpr; return 1; }
    rm -rf /tmp/c.cpr
}

# the relay survived the cuts and nothing but the relay's parent is left
relay_alive() {
    kill -0 "$PID_RELAY" 2>/dev/null || { echo "the socat relay died"; return 1; }
    _left=$(relay_children)
    [ -z "$_left" ] || { echo "relay connections still open after the clients ended: $_left"; return 1; }
}

# The cut comes after the exit status reached the client but before the client
# wrote all the output (its stdout is a pipe whose reader starts late).  The
# output is 1.5 MB: more than the pipe holds once hvterm has widened it to
# 1 MiB, less than that plus the 1 MiB replay window, so the agent has sent
# everything and the exit status while the client still waits on its stdout.
# The client must exit 9 with every byte and still tell the agent it has them
# (it reconnects briefly to send COLLECT): afterwards the agent no longer lists
# the session, and nothing is replayed to a later `hvterm attach`.
exit_then_cut() {
    _e0=$(grep -c 'session [0-9a-f]* exited' "$LOG_A")
    rm -f /tmp/etc.fifo
    mkfifo /tmp/etc.fifo
    (sleep 2; cat) </tmp/etc.fifo >/tmp/c.etc.out &
    _rd=$!
    timeout "$HV_LIMIT" hvterm exec -q "$RELAY" -- sh -c 'head -c 1500000 /dev/zero; exit 9' \
        >/tmp/etc.fifo 2>/tmp/c.etc.err &
    _hv=$!
    _i=0
    until [ "$(grep -c 'session [0-9a-f]* exited' "$LOG_A")" -gt "$_e0" ]; do
        _i=$((_i + 1))
        [ "$_i" -lt 100 ] || { echo "the session did not exit within 10 s"; return 1; }
        sleep 0.1
    done
    _id=$(grep 'session [0-9a-f]* exited' "$LOG_A" | tail -n 1 | awk '{ print $4 }')
    sleep 0.3 # the EXIT frame reaches the client, which waits for its stdout
    running "$(hvterm_pid "$_hv")" || { echo "the client ended before its stdout was read"; return 1; }
    cut_relay || { echo "the relay carried no connection to cut"; return 1; }
    wait "$_hv"
    _rc=$?
    wait "$_rd"
    [ "$_rc" -eq 9 ] || { echo "exit $_rc, expected 9"; cat /tmp/c.etc.err; return 1; }
    _n=$(wc -c </tmp/c.etc.out)
    [ "$_n" -eq 1500000 ] || { echo "the client wrote $_n bytes, expected 1500000"; return 1; }
    _i=0
    while hv ls --connect-timeout 3s "$T" >/tmp/c.etc.ls 2>&1 && grep -q "^$_id " /tmp/c.etc.ls; do
        _i=$((_i + 1))
        [ "$_i" -lt 20 ] || break
        sleep 0.1
    done
    grep -q "^$_id " /tmp/c.etc.ls || return 0
    echo "the client exited 9 with all 1500000 bytes, but the agent still has session $_id:"
    cat /tmp/c.etc.ls
    hv attach "$T" "$_id" </dev/null >/tmp/c.etc.att 2>&1
    echo "hvterm attach $T $_id then exits $? and prints $(wc -c </tmp/c.etc.att) bytes again"
    hv kill "$T" "$_id" >/dev/null 2>&1 # discard it: later checks want a clean agent
    return 1
}

# ---- paused agent ------------------------------------------------------------

# Agent A is stopped (SIGSTOP, like a paused VM) while an exec session waits
# for its second line of stdin, for twice the client's --dead-timeout; the
# line is typed while it is stopped.  The client must say "not responding",
# drop the connection, reconnect once the agent runs again (SIGCONT) and
# resume: the command gets both lines exactly once and its status comes back.
paused_agent() {
    _c0=$(agent_conns)
    rm -f /tmp/pa.fifo
    mkfifo /tmp/pa.fifo
    # shellcheck disable=SC2016 # $a and $b are for the remote shell
    hv exec --keepalive 100ms --dead-timeout 1s "$T" -- sh -c 'read a; echo "got $a"; read b; echo "$a-$b"; exit 6' \
        </tmp/pa.fifo >/tmp/c.pa.out 2>/tmp/c.pa.err &
    _hv=$!
    exec 3>/tmp/pa.fifo
    echo one >&3
    # "got one" back: the session runs and the client is bound to it
    _i=0
    until grep -q '^got one$' /tmp/c.pa.out; do
        _i=$((_i + 1))
        [ "$_i" -lt 100 ] || { echo "no 'got one' within 10 s"; cat /tmp/c.pa.out /tmp/c.pa.err; return 1; }
        sleep 0.1
    done
    kill -STOP "$PID_A"
    sleep 0.3
    echo two >&3
    sleep 1.7
    # notices while the agent is still stopped: keepalive silence, then the dead timeout
    cp /tmp/c.pa.err /tmp/c.pa.err-paused
    kill -CONT "$PID_A"
    exec 3>&-
    wait "$_hv"
    _rc=$?
    _fail=0
    [ "$_rc" -eq 6 ] || { echo "exit $_rc, expected 6"; _fail=1; }
    printf 'got one\none-two\n' >/tmp/c.pa.want
    cmp -s /tmp/c.pa.out /tmp/c.pa.want || { echo "stdout:"; cat /tmp/c.pa.out; echo "expected:"; cat /tmp/c.pa.want; _fail=1; }
    grep -q 'not responding' /tmp/c.pa.err-paused || { echo "no 'not responding' notice while the agent was stopped"; _fail=1; }
    grep -q 'reconnecting' /tmp/c.pa.err-paused || { echo "the client did not give up the connection within the 2 s pause (--dead-timeout 1s)"; _fail=1; }
    grep -q 'reconnected to session' /tmp/c.pa.err || { echo "no 'reconnected to session' notice"; _fail=1; }
    _n=$(($(agent_conns) - _c0))
    [ "$_n" -ge 2 ] || { echo "agent A accepted $_n connections, expected >= 2 (the first, then a reconnection)"; _fail=1; }
    [ "$_fail" -eq 0 ] && return 0
    echo "client stderr:"
    cat /tmp/c.pa.err
    return 1
}

# ---- refusals and connect errors ---------------------------------------------

# refused CONNECT_TARGET PORT LOG PID: the client fails (255, one line); the agent logs the refusal with CID 1
refused() {
    agent_listening "$4" "$3" "$2" || return 1
    hv exec --connect-timeout 5s "$1" -- true >/tmp/c.ref.out 2>/tmp/c.ref.err
    _rc=$?
    [ "$_rc" -eq 255 ] || { echo "hvterm exec $1 -- true: exit $_rc, expected 255"; cat /tmp/c.ref.err; return 1; }
    one_line /tmp/c.ref.err "a refused connection" || return 1
    _i=0
    until grep -q 'refused connection from cid 1 port [0-9]' "$3"; do
        _i=$((_i + 1))
        [ "$_i" -lt 20 ] || { echo "the agent's log has no 'refused connection from cid 1 port N':"; cat "$3"; return 1; }
        sleep 0.1
    done
    ! grep -q 'started' "$3" || { echo "the refusing agent started a session:"; cat "$3"; return 1; }
}

# connect_error TARGET PATTERN: exit 255 within the connect timeout, one line matching PATTERN
connect_error() {
    _t0=$(date +%s)
    hv exec --connect-timeout 5s "$1" -- true >/tmp/c.ce.out 2>/tmp/c.ce.err
    _rc=$?
    _secs=$(($(date +%s) - _t0))
    [ "$_rc" -eq 255 ] || { echo "hvterm exec $1 -- true: exit $_rc, expected 255"; cat /tmp/c.ce.err; return 1; }
    one_line /tmp/c.ce.err "$1" || return 1
    grep -qi "$2" /tmp/c.ce.err || { echo "the reason does not match '$2':"; cat /tmp/c.ce.err; return 1; }
    [ "$_secs" -le 5 ] || { echo "took ${_secs}s (connect timeout 5s)"; return 1; }
}

# ---------------------------------------------------------------------------
# The checks, in order.

check marker test -e /.hvterm-guest-marker
check vsock-modules modules_loaded
check pty pty_available
check user-database user_database
check hvterm-version /bin/hvterm --version
check hvtermd-version /bin/hvtermd --version
check ptydrive test -x /bin/ptydrive

if have socat; then
    check vsock-socat-local vsock_echo_roundtrip 1 1234
    check vsock-socat-host-cid vsock_echo_roundtrip 2 1235
    check vsock-socat-no-listener vsock_no_listener
else
    skip vsock-socat "socat not in the guest: add it with run-guest-tests.sh --extra /usr/bin/socat"
fi

# the agents (started here, not inside a check, so they outlive the checks)
start_agent "$LOG_A" --allow-cid 1,2  # no --listen: AF_VSOCK, any CID, port 18518
PID_A=$AGENT_PID
start_agent "$LOG_B" --listen "vsock:any:$PORT_DENY" --allow-cid 3
PID_B=$AGENT_PID
start_agent "$LOG_C" --port "$PORT_DEFAULT"
PID_C=$AGENT_PID
head -c "$BIG_SIZE" /dev/urandom >"$BIG"
if have socat; then
    # the relay that the resume checks cut (see cut_relay)
    socat VSOCK-LISTEN:"$RELAY_PORT",fork,reuseaddr VSOCK-CONNECT:1:"$PORT" </dev/null >/dev/null 2>/tmp/relay.log &
    PID_RELAY=$!
    rm -f /tmp/up.fifo
    mkfifo /tmp/up.fifo
fi

check agent-listens-vsock agent_a_up
check ping-cid-local ping_ok vsock:1 --wait 10
check ping-prompt ping_prompt
check ping-cid-host ping_ok vsock:2 --connect-timeout 3s
check ping-bare-cid ping_ok 1 --connect-timeout 3s
check allow-cid-accepts accept_logged

check exec-exit-0 exec_status 0 true
check exec-exit-1 exec_status 1 false
check exec-exit-7 exec_status 7 sh -c 'exit 7'
check exec-exit-127-not-found exec_status 127 no-such-command-hvterm
check exec-exit-126-not-executable exec_status 126 /etc/passwd
check exec-exit-137-killed exec_status 137 sh -c 'kill -9 $$'
check exec-binary-48m-cat binary_roundtrip
check exec-output-then-status output_then_status
check exec-stdin-eof stdin_eof
check exec-stdin-empty stdin_empty
check exec-stderr-separate stderr_separate
check nc-tcp-in-guest nc_roundtrip
check nc-refused nc_refused
check forward-l-and-r forward_l_and_r
_limit=$CHECK_TIMEOUT CHECK_TIMEOUT=$CP_CHECK_LIMIT
check cp-file-both-ways cp_file_both_ways
check cp-tree-both-ways cp_tree_both_ways
CHECK_TIMEOUT=$_limit
check cp-resume-after-kill cp_resume_after_kill

check shell-pty-size-echo-detach shell_pty
check shell-reattach shell_reattach
check exec-tty exec_tty

if have socat; then
    check relay-ping relay_up
    check resume-upload-48m-cut upload_cut
    check resume-download-48m-cut download_cut
    check resume-cut-after-exit-status exit_then_cut
    check resume-cp-pull-48m-cut cp_pull_cut
    check relay-alive relay_alive
else
    skip resume-cut "socat not in the guest: it relays the connections these checks cut"
fi
check resume-paused-agent paused_agent
kill -CONT "$PID_A" 2>/dev/null # should paused_agent have been cut short

check allow-cid-refuses refused "vsock:1:$PORT_DENY" "$PORT_DENY" "$LOG_B" "$PID_B"
check allow-cid-default-is-host refused "vsock:2:$PORT_DEFAULT" "$PORT_DEFAULT" "$LOG_C" "$PID_C"
check connect-nothing-listening connect_error "vsock:1:$PORT_NONE" 'nothing is listening'
check connect-no-such-cid connect_error vsock:3 'cid 3.*\(reach\|no such\|exist\)\|no \(vm\|such\).*cid 3'

check agent-a-alive agent_alive "$PID_A" "$LOG_A"
check agent-b-alive agent_alive "$PID_B" "$LOG_B"
check agent-c-alive agent_alive "$PID_C" "$LOG_C"

# ---------------------------------------------------------------------------
echo "CHECKS: $n_ok ok, $n_fail failed, $n_skip skipped${failed_names:+ (failed:$failed_names)}"
if [ "$n_fail" -ne 0 ]; then
    for _l in "$LOG_A" "$LOG_B" "$LOG_C"; do
        echo "--- $_l (last 40 lines) ---"
        tail -n 40 "$_l"
    done
fi
kill "$PID_A" "$PID_B" "$PID_C" $PID_RELAY 2>/dev/null
[ "$n_fail" -eq 0 ]
