#!/usr/bin/env bash
# run-guest-tests.sh: boot a throw-away QEMU guest that has real AF_VSOCK
# (Debian's cloud kernel + vsock_loopback, software emulation) and run the
# guest checks (tests/guest/guest-checks.sh) inside it with the given hvterm
# and hvtermd binaries (--build DIR: DIR/hvterm and DIR/hvtermd).
#
# CI:   tests/guest/run-guest-tests.sh --build build --timeout 600
#
# Besides busybox, the kernel modules and the binaries, the guest gets two
# helpers built here (static, cached by source hash): isa-debug-exit.c (ends
# the VM with a status) and ptydrive.c (drives a program on a PTY like a
# person at a keyboard; busybox has no script/expect).  Building ptydrive
# needs a C compiler and the static C library (libc6-dev).  The host's socat
# (Debian package socat; installed if missing, like qemu-system-x86) goes in
# too, with its libraries: the checks relay connections through it to cut
# them.
#
# The build machine's own vsock device is never touched: the binaries and
# checks only ever run inside the guest.
#
# Exit status: 0 = the guest ran the checks and they all passed,
#              1 = the guest failed, timed out or never reported,
#              2 = usage or set-up error.
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

usage() {
    cat <<EOF
Usage: $(basename "$0") --build DIR [options]
       $(basename "$0") --hvterm PATH --hvtermd PATH [options]

Options:
  --build DIR         build directory: use DIR/hvterm and DIR/hvtermd (an
                      explicit --hvterm/--hvtermd wins)
  --hvterm PATH       hvterm binary; becomes /bin/hvterm in the guest
  --hvtermd PATH      hvtermd binary; becomes /bin/hvtermd in the guest
  --checks FILE       checks script run in the guest as /checks.sh
                      (default: $SCRIPT_DIR/guest-checks.sh)
  --extra PATH        another program to put in the guest's /bin (with the
                      libraries it needs); repeatable.  socat is always put
                      there (installed from Debian if missing)
  --cache DIR         download/unpack cache
                      (default: \${XDG_CACHE_HOME:-\$HOME/.cache}/hvterm-guest)
  --timeout SECONDS   limit for the whole VM run (default: 300); the checks
                      inside get this minus a margin
  --log FILE          where to keep the guest console log (default: CACHE/last-guest.log)
  --verbose           also stream the guest console while it runs
  -h, --help          this help
EOF
}

say() { echo "run-guest-tests: $*" >&2; }
die() { say "error: $*"; exit 2; }

HVTERM=
HVTERMD=
BUILD=
CHECKS=$SCRIPT_DIR/guest-checks.sh
CACHE=${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/hvterm-guest
TIMEOUT=300
LOG=
VERBOSE=0
EXTRAS=()

while [[ $# -gt 0 ]]; do
    opt=$1
    val=
    case $opt in
        --*=*) val=${opt#*=}; opt=${opt%%=*} ;;
        --build | --hvterm | --hvtermd | --checks | --extra | --cache | --timeout | --log)
            [[ $# -ge 2 ]] || die "$opt needs a value"
            val=$2
            shift ;;
    esac
    case $opt in
        --build) BUILD=$val ;;
        --hvterm) HVTERM=$val ;;
        --hvtermd) HVTERMD=$val ;;
        --checks) CHECKS=$val ;;
        --extra) EXTRAS+=("$val") ;;
        --cache) CACHE=$val ;;
        --timeout) TIMEOUT=$val ;;
        --log) LOG=$val ;;
        --verbose) VERBOSE=1 ;;
        -h | --help) usage; exit 0 ;;
        *) usage >&2; die "unknown argument: $opt" ;;
    esac
    shift
done

if [[ -n $BUILD ]]; then
    [[ -d $BUILD ]] || die "--build: not a directory: $BUILD"
    HVTERM=${HVTERM:-$BUILD/hvterm}
    HVTERMD=${HVTERMD:-$BUILD/hvtermd}
fi
[[ -n $HVTERM && -n $HVTERMD ]] || { usage >&2; die "--build DIR, or both --hvterm and --hvtermd, are required"; }
[[ $TIMEOUT =~ ^[0-9]+$ && $TIMEOUT -ge 20 ]] || die "--timeout must be a number of seconds >= 20"
for f in "$HVTERM" "$HVTERMD" "${EXTRAS[@]}"; do
    [[ -f $f && -x $f ]] || die "not an executable file: $f"
done
[[ -f $CHECKS ]] || die "no checks script: $CHECKS"
[[ $(uname -m) == x86_64 ]] || die "only x86_64 hosts are supported"

mkdir -p "$CACHE"
CACHE=$(cd "$CACHE" && pwd)
LOG=${LOG:-$CACHE/last-guest.log}
APT_LOG=$CACHE/apt.log
T0=$(date +%s.%N)

elapsed() { awk -v a="$T0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }

# ---------------------------------------------------------------------------
# Host tools (qemu, socat), the guest kernel and busybox (downloaded from
# Debian into the cache, never installed) and the two helpers: see
# initramfs-lib.sh, shared with tests/vm.

# shellcheck source-path=SCRIPTDIR source=initramfs-lib.sh
. "$SCRIPT_DIR/initramfs-lib.sh"
ensure_host_tools
# socat always goes into the guest: the vsock sanity checks use it, and the
# resume checks relay hvterm's connections through it to cut them.
EXTRAS=("$(command -v socat)" "${EXTRAS[@]}")
locate_packages
VSOCK_MODULES=(vsock vmw_vsock_virtio_transport_common vsock_loopback)

lock_cache
fetch_busybox
fetch_kernel
build_helper
build_ptydrive
unlock_cache
VMLINUZ=$KDIR/vmlinuz
T_FETCH=$(elapsed)

# ---------------------------------------------------------------------------
# Initramfs.

WORK=$(mktemp -d "${TMPDIR:-/tmp}/hvterm-guest.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
R=$WORK/root
base_root "$R" "${VSOCK_MODULES[@]}"
copy_with_libs "$R" "$HVTERM" /bin/hvterm
copy_with_libs "$R" "$HVTERMD" /bin/hvtermd
for x in "${EXTRAS[@]}"; do
    copy_with_libs "$R" "$x" "/bin/$(basename "$x")"
done
[[ -n $HELPER ]] && install -m 0755 "$HELPER" "$R/bin/isa-debug-exit"
install -m 0755 "$PTYDRIVE" "$R/bin/ptydrive"
install -m 0755 "$CHECKS" "$R/checks.sh"

RUN_ID=$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')
if ((TIMEOUT >= 60)); then GUEST_TIMEOUT=$((TIMEOUT - 30)); else GUEST_TIMEOUT=$((TIMEOUT / 2)); fi
echo "hvterm guest test initramfs $RUN_ID" >"$R/.hvterm-guest-marker"

cat >"$R/etc/hvterm-guest.conf" <<EOF
RUN_ID=$RUN_ID
GUEST_TIMEOUT=$GUEST_TIMEOUT
EOF

cat >"$R/init" <<'EOF'
#!/bin/sh
# /init of the hvterm test guest (generated by tests/guest/run-guest-tests.sh)
export PATH=/bin:/sbin:/usr/bin:/usr/sbin HOME=/root TERM=vt100 USER=root LOGNAME=root SHELL=/bin/sh LANG=C
. /etc/init-mounts.sh
hostname hvterm-guest
for m in vsock vmw_vsock_virtio_transport_common vsock_loopback; do
    insmod /lib/modules/$m.ko || echo "HVTERM-GUEST: insmod $m failed"
done
. /etc/hvterm-guest.conf
cd /root
echo "HVTERM-GUEST: kernel $(uname -r), running /checks.sh (limit ${GUEST_TIMEOUT}s)"
timeout -k 5 "$GUEST_TIMEOUT" sh /checks.sh
rc=$?
cd /
echo
if [ "$rc" -eq 0 ]; then
    echo "HVTERM-GUEST-RESULT: PASS run=$RUN_ID"
    code=42
else
    echo "--- dmesg since /init started (last 40 lines) ---"
    dmesg | sed -n '/Run \/init as init process/,$p' | tail -n 40
    echo "HVTERM-GUEST-RESULT: FAIL rc=$rc run=$RUN_ID"
    code=1
fi
sync
[ -x /bin/isa-debug-exit ] && /bin/isa-debug-exit "$code"
poweroff -f
EOF
chmod 0755 "$R/init"

INITRD=$WORK/initrd.cpio
pack_cpio "$R" "$INITRD"
T_INITRD=$(elapsed)

# ---------------------------------------------------------------------------
# Boot.

if [[ -n $HELPER ]]; then EXPECT_RC=85; else EXPECT_RC=0; fi # isa-debug-exit: (42<<1)|1
# shellcheck disable=SC2054 # the commas belong to qemu's -device syntax
QEMU=(qemu-system-x86_64 -accel tcg -m 1280M -smp 2 -nodefaults -no-user-config -display none
    -no-reboot -serial stdio -device isa-debug-exit,iobase=0xf4,iosize=0x04
    -kernel "$VMLINUZ" -initrd "$INITRD" -append "console=ttyS0 quiet panic=-1")

say "booting $(basename "$KDIR") (timeout ${TIMEOUT}s, log: $LOG)"
mkdir -p "$(dirname "$LOG")"
set +e
if ((VERBOSE)); then
    timeout -k 10 "$TIMEOUT" "${QEMU[@]}" </dev/null 2>"$WORK/qemu.err" | tr -d '\r' | tee "$LOG"
    QEMU_RC=${PIPESTATUS[0]}
else
    timeout -k 10 "$TIMEOUT" "${QEMU[@]}" </dev/null 2>"$WORK/qemu.err" | tr -d '\r' >"$LOG"
    QEMU_RC=${PIPESTATUS[0]}
fi
set -e
if [[ -s $WORK/qemu.err ]]; then
    { echo "--- qemu stderr ---"; cat "$WORK/qemu.err"; } >>"$LOG"
fi
T_END=$(elapsed)

# ---------------------------------------------------------------------------
# Verdict: qemu_verdict (initramfs-lib.sh) passes only this run's PASS line
# together with the exit status /init asks qemu for.

((VERBOSE)) || grep -a '^CHECK' "$LOG" >&2 || true
TIMES="set-up ${T_FETCH}s, initramfs $(awk -v a="$T_FETCH" -v b="$T_INITRD" 'BEGIN { printf "%.1f", b - a }')s, total ${T_END}s"
qemu_verdict HVTERM-GUEST guest '^HVTERM-GUEST: kernel' 600 "$TIMES"
