#!/bin/sh
# vm-checks.sh: the vm tier's checks.  Runs INSIDE the host VM (L1) that
# tests/vm/run-vm-tests.sh boots, as /checks.sh under busybox sh.  L1 has
# vhost_vsock loaded (it is a vsock host, CID 2) and no vsock device of its
# own.  The checks start the nested guest (L2: QEMU under TCG with
# -device vhost-vsock-pci,guest-cid=3 and a QMP socket; its /init,
# tests/vm/guest-init.sh, starts hvtermd with its defaults) and drive hvterm
# here against vsock:3:
#
#   host-is-vsock-host        vhost_vsock loaded, /dev/vhost-vsock, no virtio device in L1
#   guest-boots               L2 boots and its hvtermd answers `hvterm ping vsock:3`
#   allow-cid-2-accepts       the agent (default --allow-cid 2) logs the host's CID 2
#   exec-*                    exit status, stdout/stderr apart, stdin EOF, 4 MiB random round trip
#   shell-*, ls-json          a shell on a PTY (ptydrive): stty size, ~. detaches;
#                             `ls --json` lists it detached; `attach`, `exit 3` -> 3
#   pause-within-dead-timeout QMP stop for 20 s (> --keepalive 5s, < --dead-timeout 60s)
#                             mid-output, then cont: the client said "paused?", did not
#                             exit or reconnect, and every numbered line came once
#   pause-beyond-dead-timeout the same with --dead-timeout 5s: the client gives the
#                             connection up, reconnects after cont, resumes exactly
#   snapshot-restore          mid-output, QMP migrate to a file, quit (the host resets
#                             the connection); a new L2 with -incoming from that file,
#                             cont: the client, which waited meanwhile, reconnects and
#                             resumes exactly
#   attach-after-restore      a shell detached before the snapshot is attached after it
#   allow-cid-5-refuses-host  a second agent with --allow-cid 5 refuses L1: exit 255, one line
#   bench                     only with BENCH=1 (run-vm-tests.sh --bench), not in CI: a
#                             benchmark, `exec -- true` p50 and `exec -- cat` round-trip MB/s
#                             beside socat over the same vsock path (BENCH lines; fails only
#                             if a transfer is wrong or nothing could be measured)
#
# Lines starting with "VM: " in a check's output are shown even when it
# passes (what the client printed, timings).  Every hvterm and QMP call runs
# under `timeout`, and every check under its own limit, so nothing hangs.
# ONLY=NAME... in /etc/hvterm-vm.conf runs just those checks (after
# guest-boots), to work on one.

set -u

if [ ! -e /.hvterm-vm-marker ]; then
    echo "vm-checks.sh: refusing to run: /.hvterm-vm-marker is missing." >&2
    echo "These checks use real AF_VSOCK and only run inside the host VM that" >&2
    echo "tests/vm/run-vm-tests.sh boots, never on a build machine." >&2
    exit 2
fi
ONLY=
BENCH=0
GIT_REV=unknown
# shellcheck disable=SC1091 # written by run-vm-tests.sh
. /etc/hvterm-vm.conf
# check, skip, retry, procs, kill_tree, uptime_ms, one_line
# shellcheck source-path=SCRIPTDIR source=../guest/check-lib.sh
. /lib/check-lib.sh

CID=3
T=vsock:$CID
PORT_DENY=18519 # the second agent: --allow-cid 5
ECHO_PORT=18600 # socat EXEC:cat in L2 (the round-trip baseline)
TRUE_PORT=18601 # socat EXEC:true in L2 (the set-up baseline)
QMP=/tmp/qmp.sock
CON_BOOT=/tmp/l2-boot.console
CON_RESTORED=/tmp/l2-restored.console
SNAPSHOT=/tmp/l2.snapshot
HV_LIMIT=180 # seconds a single hvterm call may take (TCG inside TCG is slow)
PD="ptydrive -t 120"

now_ms() { /opt/coreutils/date +%s%3N; }

# the nested guest's qemu command line, less console, QMP and -incoming
guest_qemu() {
    qemu-system-x86_64 -accel tcg -m 256M -smp 1 -nodefaults -no-user-config -display none -no-reboot \
        -kernel /guest/vmlinuz -initrd /guest/initrd.cpio -append "console=ttyS0 quiet panic=-1" \
        -device vhost-vsock-pci,guest-cid=$CID "$@"
}

# start_guest CONSOLE [QEMU-ARGS...]: L2 in the background, its console appended
# to CONSOLE, QMP on $QMP; its pid in /tmp/l2.pid
start_guest() {
    _con=$1
    shift
    rm -f "$QMP"
    guest_qemu -chardev file,id=con,path="$_con",append=on -serial chardev:con \
        -qmp unix:"$QMP",server=on,wait=off "$@" </dev/null >>/tmp/l2-qemu.err 2>&1 &
    echo $! >/tmp/l2.pid
}

guest_pid() { cat /tmp/l2.pid 2>/dev/null; }

# qmp COMMAND-JSON...: send the commands on a new QMP connection; the replies go
# to /tmp/qmp.out; fails unless every command (and the capabilities handshake)
# got a "return"
qmp() {
    { echo '{"execute":"qmp_capabilities"}'; for _q in "$@"; do echo "$_q"; done; } |
        timeout 30 socat -t 3 - UNIX-CONNECT:"$QMP" >/tmp/qmp.out 2>&1
    _want=$(($# + 1))
    _got=$(grep -o '"return"' /tmp/qmp.out | wc -l)
    [ "$_got" -eq "$_want" ] && return 0
    echo "QMP $*: $_got of $_want replies:"
    cat /tmp/qmp.out
    return 1
}

# wait_for SECONDS WHAT COMMAND...: poll COMMAND every 0.2 s until it succeeds
wait_for() {
    _wf_end=$(($(now_ms) + $1 * 1000))
    _wf_what=$2
    shift 2
    until "$@"; do
        [ "$(now_ms)" -lt "$_wf_end" ] || { echo "timed out waiting for $_wf_what"; return 1; }
        sleep 0.2
    done
}

# hv ARGS...: hvterm with a time limit (a hang is a failure, not a stuck run)
hv() { timeout "$HV_LIMIT" hvterm "$@"; }
# `hvterm exec` in the guest, as the shared checks in check-lib.sh run it
hvx() { hv exec "$T" -- "$@"; }

# running PID: PID exists and has not exited (kill -0 succeeds on a zombie)
running() {
    _st=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
    _st=${_st##*) }
    [ "${_st%% *}" != Z ]
}

# lines FILE: how many lines FILE has
lines() { wc -l <"$1" 2>/dev/null || echo 0; }
has_lines() { [ "$(lines "$1")" -ge "$2" ]; }

# numbered N: a remote command printing "line 1" .. "line N", one every 0.05 s
# plus a fork (about 3 a second in L2)
numbered() { echo "i=0; while [ \$i -lt $1 ]; do i=\$((i + 1)); echo line \$i; sleep 0.05; done"; }

# numbered_exact FILE N: FILE is exactly "line 1" .. "line N", each once, in order
numbered_exact() {
    awk -v n="$2" 'BEGIN { for (i = 1; i <= n; i++) print "line " i }' >/tmp/numbered.want
    cmp -s "$1" /tmp/numbered.want && return 0
    echo "output is not line 1 .. line $2 exactly once: $(lines "$1") lines"
    echo "repeated: $(sort "$1" | uniq -d | head -n 5 | tr '\n' ' ')"
    echo "missing:  $(awk 'NR == FNR { got[$0] = 1; next } !($0 in got)' "$1" /tmp/numbered.want | head -n 5 | tr '\n' ' ')"
    echo "first difference: $(cmp "$1" /tmp/numbered.want 2>&1)"
    return 1
}

# ---------------------------------------------------------------------------
# The host and the guest.

host_is_vsock_host() {
    [ -d /sys/module/vhost_vsock ] || { echo "vhost_vsock is not loaded"; lsmod; return 1; }
    [ -c /dev/vhost-vsock ] || { echo "no /dev/vhost-vsock"; ls /dev; return 1; }
    # L1 itself has no vsock (or any virtio) device: vsock exists only between it and L2
    _virtio=$(grep -l 0x1af4 /sys/bus/pci/devices/*/vendor 2>/dev/null)
    [ -z "$_virtio" ] || { echo "the host VM has virtio PCI devices: $_virtio"; return 1; }
}

# guest_ready CONSOLE: L2's /init printed its ready line; stops the wait (by
# failing the check) if L2's qemu has exited
guest_ready() {
    grep -q '^HVTERM-L2: ready' "$1" && return 0
    running "$(guest_pid)" && return 1
    echo "L2's qemu exited:"
    cat /tmp/l2-qemu.err
    tail -n 30 "$1"
    exit 1
}

ping_guest() { timeout 60 hvterm ping --connect-timeout 10s "$T" >/tmp/ping.out 2>&1; }

guest_boots() {
    _t0=$(now_ms)
    start_guest "$CON_BOOT"
    wait_for 600 "'HVTERM-L2: ready' on L2's console" guest_ready "$CON_BOOT" || {
        tail -n 30 "$CON_BOOT"
        cat /tmp/l2-qemu.err
        return 1
    }
    _t1=$(now_ms)
    wait_for 300 "hvtermd in L2 to answer hvterm ping $T" ping_guest || { cat /tmp/ping.out; tail -n 20 "$CON_BOOT"; return 1; }
    _t2=$(now_ms)
    echo "VM: L2 booted in $(((_t1 - _t0) / 1000)) s; hvterm ping $T answered after $(((_t2 - _t0) / 1000)) s: $(cat /tmp/ping.out)"
    grep 'HVTERM-L2\|insmod' "$CON_BOOT" | sed 's/^/VM: L2: /'
}

# the default agent logged L1's connections as coming from CID 2
allow_cid_2_accepts() {
    wait_for 30 "'connection from cid 2 port N' in the agent's log on L2's console" \
        grep -q '^hvtermd: debug: connection from cid 2 port [0-9]' "$CON_BOOT" && return 0
    grep '^hvtermd' "$CON_BOOT" | tail -n 20
    return 1
}

# ---------------------------------------------------------------------------
# exec and shell basics

exec_status() {
    hv exec "$T" -- sh -c 'exit 7' >/tmp/c.st.out 2>/tmp/c.st.err
    _rc=$?
    [ "$_rc" -eq 7 ] && [ ! -s /tmp/c.st.out ] && [ ! -s /tmp/c.st.err ] && return 0
    echo "hvterm exec $T -- sh -c 'exit 7': exit $_rc (want 7)"
    cat /tmp/c.st.out /tmp/c.st.err
    return 1
}

stdin_eof() {
    _got=$(printf abc | hv exec "$T" -- wc -c 2>/tmp/c.eof.err)
    _rc=$?
    _got=$(printf %s "$_got" | tr -d ' \t\n')
    [ "$_rc" -eq 0 ] && [ "$_got" = 3 ] && return 0
    echo "printf abc | hvterm exec $T -- wc -c: exit $_rc, printed '$_got' (want 3)"
    cat /tmp/c.eof.err
    return 1
}

# same_file WANT GOT: equal size and md5
same_file() {
    _ws=$(wc -c <"$1") _gs=$(wc -c <"$2")
    _wm=$(md5sum <"$1") _gm=$(md5sum <"$2")
    [ "$_ws" -eq "$_gs" ] && [ "$_wm" = "$_gm" ] && return 0
    echo "sent $_ws bytes (md5 ${_wm%% *}), got $_gs bytes (md5 ${_gm%% *})"
    return 1
}

roundtrip_4m() {
    head -c 4194304 /dev/urandom >/tmp/r4.in
    _t0=$(now_ms)
    hv exec "$T" -- cat </tmp/r4.in >/tmp/r4.out 2>/tmp/r4.err
    _rc=$?
    _ms=$(($(now_ms) - _t0))
    [ "$_rc" -eq 0 ] || { echo "hvterm exec $T -- cat: exit $_rc"; cat /tmp/r4.err; return 1; }
    same_file /tmp/r4.in /tmp/r4.out || return 1
    echo "VM: 4 MiB round trip in $_ms ms"
}

# a shell on a 37x101 PTY: stty size, a mark, then ~. after Enter detaches
# (exit 0).  The first line is typed before the client is connected.
shell_detach() {
    $PD -s 37x101 -x 0 -o /tmp/c.shell.out \
        "send:PS1='P''S> '\r" 'expect:PS> ' \
        'send:stty size\r' 'expect:\n37 101\r\n' 'expect:PS> ' \
        "send:MARK=kept-across-detach\r" 'expect:PS> ' \
        'send:\r~.' 'expect:detached' \
        -- hvterm shell "$T" -- sh
}

# ls --json lists exactly one detached pty session running sh; its id goes to /tmp/shell.id
ls_json() {
    hv ls "$T" --json >/tmp/c.ls.json 2>/tmp/c.ls.err || { echo "hvterm ls $T --json failed:"; cat /tmp/c.ls.err; return 1; }
    _n=$(grep -c '"state":"detached"' /tmp/c.ls.json)
    _id=$(grep '"state":"detached"' /tmp/c.ls.json | grep '"mode":"pty"' | grep '"command":"sh"' |
        sed -n 's/.*"id":"\([0-9a-f]*\)".*/\1/p')
    if [ "$_n" -eq 1 ] && [ -n "$_id" ] && head -c 1 /tmp/c.ls.json | grep -q '\['; then
        echo "$_id" >/tmp/shell.id
        return 0
    fi
    echo "hvterm ls $T --json does not list one detached pty session running sh:"
    cat /tmp/c.ls.json
    return 1
}

# attach the detached shell (on another size): the mark is still set; exit 3 -> 3
# shellcheck disable=SC2016 # $MARK is for the remote shell
shell_attach() {
    [ -s /tmp/shell.id ] || { echo "no session id from ls-json"; return 1; }
    $PD -s 30x90 -x 3 -o /tmp/c.attach.out \
        'expect:PS> ' \
        'send:echo "mark=$MARK"\r' 'expect:mark=kept-across-detach\r\n' 'expect:PS> ' \
        'send:stty size\r' 'expect:\n30 90\r\n' 'expect:PS> ' \
        'send:exit 3\r' \
        -- hvterm attach "$T" "$(cat /tmp/shell.id)"
}

# ---------------------------------------------------------------------------
# A real pause: QMP stop, then cont, while a session prints numbered lines.

# pause_run NAME SECONDS N CLIENT-OPTIONS...: start `exec -- numbered N` with the
# options; once 20 lines are in, stop L2 for SECONDS, then cont.  Leaves
# /tmp/NAME.{out,err,rc} and /tmp/NAME.err-paused (stderr at the end of the pause).
pause_run() {
    _pn=$1 _secs=$2 _lines=$3
    shift 3
    timeout 600 hvterm exec "$@" "$T" -- sh -c "$(numbered "$_lines")" >/tmp/"$_pn".out 2>/tmp/"$_pn".err &
    _hv=$!
    wait_for 180 "20 numbered lines" has_lines /tmp/"$_pn".out 20 || { cat /tmp/"$_pn".err; return 1; }
    _t0=$(now_ms)
    qmp '{"execute":"stop"}' || return 1
    sleep 2
    _at_stop=$(lines /tmp/"$_pn".out)
    while [ $(($(now_ms) - _t0)) -lt $((_secs * 1000)) ]; do sleep 0.2; done
    cp /tmp/"$_pn".err /tmp/"$_pn".err-paused
    _at_cont=$(lines /tmp/"$_pn".out)
    running "$_hv" || { echo "the client exited during the pause:"; cat /tmp/"$_pn".err; return 1; }
    qmp '{"execute":"cont"}' || return 1
    echo "VM: paused $(($(now_ms) - _t0)) ms at line $_at_stop of $_lines"
    wait "$_hv"
    echo $? >/tmp/"$_pn".rc
    # the pause was real: nothing arrived while the guest was stopped
    [ "$_at_cont" -eq "$_at_stop" ] || { echo "lines arrived during the pause: $_at_stop -> $_at_cont"; return 1; }
    [ "$_at_stop" -lt "$_lines" ] || { echo "the session was over before the pause"; return 1; }
}

pause_within_dead_timeout() {
    _fail=0
    pause_run p1 20 120 --keepalive 5s --dead-timeout 60s || return 1
    _rc=$(cat /tmp/p1.rc)
    [ "$_rc" -eq 0 ] || { echo "exit $_rc (want 0)"; _fail=1; }
    numbered_exact /tmp/p1.out 120 || _fail=1
    grep -q 'paused?' /tmp/p1.err-paused || { echo "no 'paused?' notice during the 20 s pause"; _fail=1; }
    ! grep -q 'reconnect' /tmp/p1.err || { echo "the client reconnected although the pause was shorter than --dead-timeout"; _fail=1; }
    echo "VM: client stderr: $(tr '\n' '|' </tmp/p1.err)"
    [ "$_fail" -eq 0 ] || { echo "client stderr:"; cat /tmp/p1.err; return 1; }
}

pause_beyond_dead_timeout() {
    _fail=0
    pause_run p2 20 120 --keepalive 1s --dead-timeout 5s || return 1
    _rc=$(cat /tmp/p2.rc)
    [ "$_rc" -eq 0 ] || { echo "exit $_rc (want 0)"; _fail=1; }
    numbered_exact /tmp/p2.out 120 || _fail=1
    grep -q 'reconnecting' /tmp/p2.err-paused || { echo "the client did not give up the connection during the pause"; _fail=1; }
    grep -q 'reconnected to session' /tmp/p2.err || { echo "no 'reconnected to session' notice"; _fail=1; }
    echo "VM: client stderr: $(tr '\n' '|' </tmp/p2.err)"
    [ "$_fail" -eq 0 ] || { echo "client stderr:"; cat /tmp/p2.err; return 1; }
}

# ---------------------------------------------------------------------------
# A real snapshot and restore: QMP migrate to a file, quit, a new L2 from it.

migration_done() {
    qmp '{"execute":"query-migrate"}' || return 1
    # a failed migration ends the check rather than the wait
    ! grep -q '"status": *"failed"' /tmp/qmp.out || { echo "migration failed:"; cat /tmp/qmp.out; exit 1; }
    grep -q '"status": *"completed"' /tmp/qmp.out
}

guest_gone() { ! running "$(guest_pid)"; }

incoming_done() {
    qmp '{"execute":"query-status"}' || return 1
    grep -q '"status": *"paused"\|"status": *"prelaunch"' /tmp/qmp.out
}

# shellcheck disable=SC2016 # $MARK is for the remote shell
snapshot_restore() {
    # a shell detached before the snapshot (attach-after-restore attaches it)
    $PD -s 24x80 -x 0 -o /tmp/c.snapshell.out \
        "send:PS1='Q''S> '\r" 'expect:QS> ' \
        "send:MARK=kept-across-restore\r" 'expect:QS> ' \
        'send:\r~.' 'expect:detached' \
        -- hvterm shell "$T" -- sh || { echo "could not start and detach a shell"; return 1; }
    hv ls "$T" >/tmp/c.snapls.out 2>&1 || { cat /tmp/c.snapls.out; return 1; }
    awk '$3 == "detached" && $NF == "sh" { print $1 }' /tmp/c.snapls.out >/tmp/snapshell.id
    [ "$(wc -l </tmp/snapshell.id)" -eq 1 ] || { echo "hvterm ls shows no single detached sh:"; cat /tmp/c.snapls.out; return 1; }

    timeout 900 hvterm exec "$T" -- sh -c "$(numbered 120)" >/tmp/s.out 2>/tmp/s.err &
    _hv=$!
    wait_for 180 "20 numbered lines" has_lines /tmp/s.out 20 || { cat /tmp/s.err; return 1; }
    _t0=$(now_ms)
    rm -f "$SNAPSHOT"
    qmp '{"execute":"migrate","arguments":{"uri":"exec:cat > '"$SNAPSHOT"'"}}' || return 1
    wait_for 300 "the migration to $SNAPSHOT to complete" migration_done || return 1
    _at_snap=$(lines /tmp/s.out)
    _t1=$(now_ms)
    qmp '{"execute":"quit"}' || true # the connection may close before the reply
    wait_for 60 "the snapshotted L2 to exit" guest_gone || return 1
    echo "VM: snapshot of $(($(wc -c <"$SNAPSHOT") / 1048576)) MiB in $(((_t1 - _t0) / 1000)) s at line $_at_snap of 120; L2 is gone"
    sleep 3
    running "$_hv" || { echo "the client exited while the guest was gone:"; cat /tmp/s.err; return 1; }
    cp /tmp/s.err /tmp/s.err-gone
    _at_gone=$(lines /tmp/s.out)

    _t2=$(now_ms)
    start_guest "$CON_RESTORED" -S -incoming "exec:cat $SNAPSHOT"
    wait_for 300 "the incoming migration to complete" incoming_done || { cat /tmp/l2-qemu.err; return 1; }
    qmp '{"execute":"cont"}' || return 1
    echo "VM: restored L2 running $((($(now_ms) - _t2) / 1000)) s after it was started"
    wait "$_hv"
    _rc=$?
    _fail=0
    [ "$_rc" -eq 0 ] || { echo "exit $_rc (want 0)"; _fail=1; }
    numbered_exact /tmp/s.out 120 || _fail=1
    [ "$_at_snap" -lt 120 ] || { echo "the session was over before the snapshot"; _fail=1; }
    [ "$_at_gone" -eq "$_at_snap" ] || { echo "lines arrived after the snapshot: $_at_snap -> $_at_gone"; _fail=1; }
    grep -q 'connection lost.*reconnecting' /tmp/s.err-gone ||
        { echo "the client had not lost its connection while no guest existed"; _fail=1; }
    grep -q 'reconnected to session' /tmp/s.err || { echo "no 'reconnected to session' notice"; _fail=1; }
    echo "VM: client stderr: $(tr '\n' '|' </tmp/s.err)"
    [ "$_fail" -eq 0 ] || { echo "client stderr:"; cat /tmp/s.err; return 1; }
}

# shellcheck disable=SC2016 # $MARK is for the remote shell
attach_after_restore() {
    [ -s /tmp/snapshell.id ] || { echo "no detached session from snapshot-restore"; return 1; }
    $PD -s 24x80 -x 3 -o /tmp/c.snapattach.out \
        'expect:QS> ' \
        'send:echo "mark=$MARK"\r' 'expect:mark=kept-across-restore\r\n' 'expect:QS> ' \
        'send:exit 3\r' \
        -- hvterm attach "$T" "$(cat /tmp/snapshell.id)"
}

# ---------------------------------------------------------------------------
# CID policy with a real peer: the second agent allows only CID 5.

allow_cid_5_refuses_host() {
    hv exec --connect-timeout 60s "$T:$PORT_DENY" -- true >/tmp/c.deny.out 2>/tmp/c.deny.err
    _rc=$?
    echo "VM: hvterm exec $T:$PORT_DENY -- true (agent --allow-cid 5): exit $_rc, stderr: $(cat /tmp/c.deny.err)"
    [ "$_rc" -eq 255 ] || { echo "exit $_rc (want 255)"; return 1; }
    one_line /tmp/c.deny.err "a refused connection" || return 1
    grep -q 'refused\|not allowed\|denied' /tmp/c.deny.err || { echo "the one line does not say the agent refused the connection"; return 1; }
    # only the second agent refuses anyone (the first allows CID 2, the only peer here)
    wait_for 30 "the refusal in the second agent's log" \
        grep -q '^hvtermd: warn: refused connection from cid 2 port [0-9]* (not allowed)' "$CON_BOOT" "$CON_RESTORED" ||
        { grep -h '^hvtermd' "$CON_BOOT" "$CON_RESTORED" | tail -n 20; return 1; }
}

# ---------------------------------------------------------------------------
# Benchmark rows (see tests/bench/README.md).  Not pass/fail on timing: fails
# only if a transfer is wrong or no sample could be taken.

BENCH_SIZE=8388608
BENCH_REPS=3
SETUP_RUNS=11

# median of the numbers on stdin
median() { sort -n | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)] }'; }

# time_ms COMMAND...: prints the milliseconds COMMAND took; fails with it
time_ms() {
    _tm0=$(now_ms)
    "$@" || return 1
    echo $(($(now_ms) - _tm0))
}

setup_hvterm() { hv exec "$T" -- true </dev/null >/dev/null 2>&1; }
setup_socat() { timeout 60 socat -T 30 - VSOCK-CONNECT:$CID:$TRUE_PORT </dev/null >/dev/null 2>&1; }
rt_hvterm() { hv exec "$T" -- cat </tmp/bench.in >/tmp/bench.out 2>/tmp/bench.err && same_file /tmp/bench.in /tmp/bench.out; }
# socat can deadlock itself (both ends blocked writing); a sample that hangs
# for 120 s is dropped and taken again, at most twice
rt_socat_once() { timeout 120 socat -t 30 - VSOCK-CONNECT:$CID:$ECHO_PORT </tmp/bench.in >/tmp/bench.out 2>/tmp/bench.err && same_file /tmp/bench.in /tmp/bench.out; }
rt_socat() { retry 3 1 rt_socat_once; }

bench() {
    : >/tmp/b.setup.hvterm
    : >/tmp/b.setup.socat
    _i=0
    while [ "$_i" -lt "$SETUP_RUNS" ]; do
        time_ms setup_hvterm >>/tmp/b.setup.hvterm || { echo "hvterm exec $T -- true failed"; return 1; }
        time_ms setup_socat >>/tmp/b.setup.socat || echo "socat one-shot failed (sample dropped)"
        _i=$((_i + 1))
    done
    head -c "$BENCH_SIZE" /dev/urandom >/tmp/bench.in
    : >/tmp/b.rt.hvterm
    : >/tmp/b.rt.socat
    _i=0
    while [ "$_i" -lt "$BENCH_REPS" ]; do
        _ms=$(time_ms rt_hvterm) || { echo "hvterm exec $T -- cat: wrong or failed"; cat /tmp/bench.err; return 1; }
        echo "$_ms" >>/tmp/b.rt.hvterm
        if _ms=$(time_ms rt_socat); then echo "$_ms" >>/tmp/b.rt.socat; else echo "socat round trip failed 3 times (sample dropped)"; fi
        _i=$((_i + 1))
    done
    if [ ! -s /tmp/b.rt.socat ] || [ ! -s /tmp/b.setup.socat ]; then echo "no socat sample"; return 1; fi
    mbps() { awk -v b="$BENCH_SIZE" '{ printf "%.2f\n", b / ($1 / 1000) / 1e6 }'; }
    echo "VM: BENCH $(date -u '+%Y-%m-%d %H:%M UTC'), git $GIT_REV"
    echo "VM: BENCH exec-true-ms hvterm p50 $(median </tmp/b.setup.hvterm) ($(tr '\n' ' ' </tmp/b.setup.hvterm)) socat p50 $(median </tmp/b.setup.socat) ($(tr '\n' ' ' </tmp/b.setup.socat))"
    echo "VM: BENCH roundtrip-8MiB-MBps hvterm median $(mbps </tmp/b.rt.hvterm | median) ($(mbps </tmp/b.rt.hvterm | tr '\n' ' ')) socat median $(mbps </tmp/b.rt.socat | median) ($(mbps </tmp/b.rt.socat | tr '\n' ' '))"
}

# ---------------------------------------------------------------------------
# The checks, in order.

# vcheck NAME [TIMEOUT] COMMAND...: check, then show the check's "VM: " lines
vcheck() {
    _vn=$1
    shift
    case $1 in [0-9]*) CHECK_TIMEOUT=$1; shift ;; *) CHECK_TIMEOUT=120 ;; esac
    if [ -n "$ONLY" ] && [ "$_vn" != guest-boots ] && [ "$_vn" != host-is-vsock-host ]; then
        case " $ONLY " in *" $_vn "*) ;; *) return 0 ;; esac
    fi
    check "$_vn" "$@"
    grep '^VM: ' "/tmp/check.$_vn.log" 2>/dev/null
}

: >"$CON_RESTORED"
vcheck host-is-vsock-host 10 host_is_vsock_host
vcheck guest-boots 900 guest_boots
if [ "$n_fail" -eq 0 ]; then
    vcheck allow-cid-2-accepts 10 allow_cid_2_accepts
    vcheck exec-exit-status 120 exec_status
    vcheck exec-stderr-separate 120 stderr_separate
    vcheck exec-stdin-eof 120 stdin_eof
    vcheck exec-4m-roundtrip 300 roundtrip_4m
    vcheck shell-stty-detach 200 shell_detach
    vcheck ls-json 120 ls_json
    vcheck shell-attach-exit-3 200 shell_attach
    vcheck pause-within-dead-timeout 300 pause_within_dead_timeout
    vcheck pause-beyond-dead-timeout 300 pause_beyond_dead_timeout
    vcheck snapshot-restore 900 snapshot_restore
    vcheck attach-after-restore 200 attach_after_restore
    vcheck allow-cid-5-refuses-host 180 allow_cid_5_refuses_host
    case "$BENCH $ONLY " in 1\ * | *" bench "*) vcheck bench 600 bench ;; esac
fi

echo "CHECKS: $n_ok ok, $n_fail failed, $n_skip skipped${failed_names:+ (failed:$failed_names)}"
if [ "$n_fail" -ne 0 ]; then
    for _c in "$CON_BOOT" "$CON_RESTORED"; do
        echo "--- $_c (last 40 lines) ---"
        tail -n 40 "$_c"
    done
    echo "--- L2 qemu stderr ---"
    cat /tmp/l2-qemu.err 2>/dev/null
fi
_gp=$(guest_pid)
[ -n "$_gp" ] && kill "$_gp" 2>/dev/null
[ "$n_fail" -eq 0 ]
