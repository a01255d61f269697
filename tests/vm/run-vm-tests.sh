#!/usr/bin/env bash
# run-vm-tests.sh: a real vsock host and a real guest, nested.  Boots an outer
# QEMU VM ("host", L1: no vsock device, no network) whose kernel loads vhost,
# vhost_iotlb and vhost_vsock and so is a vsock host (CID 2); inside it the
# checks (tests/vm/vm-checks.sh) start a nested QEMU ("guest", L2) with
# -device vhost-vsock-pci,guest-cid=3 and a QMP socket, whose /init
# (tests/vm/guest-init.sh) starts hvtermd with its defaults.  The checks run
# hvterm in L1 against vsock:3, pause L2 for real (QMP stop/cont) and
# snapshot and restore it (QMP migrate to a file, a new L2 with -incoming).
#
# CI:   tests/vm/run-vm-tests.sh --build build
#
# Both levels run under TCG.  KVM is not probed: /dev/kvm may exist on build
# machines, but an outer guest under KVM has died there with "KVM internal
# error ... emulation failure", and nested virtualisation is not offered, so
# the tier does not depend on it.  TCG inside TCG is slow (L2 takes a minute
# or two to boot; ~1 MB/s through vsock); the checks are sized for that.
#
# Both levels boot Debian's cloud kernel with a busybox initramfs, like the
# guest tier (tests/guest), with which this shares the download cache, the
# initramfs helpers (tests/guest/initramfs-lib.sh), the check runner
# (tests/guest/check-lib.sh) and the two static helpers (isa-debug-exit.c,
# ptydrive.c).  L1's initramfs also carries qemu-system-x86_64, every library
# ldd lists for it and its firmware (/usr/share/qemu, /usr/share/seabios);
# that part is packed once per qemu version and cached (the kernel unpacks
# concatenated cpio archives as one).
#
# The build machine's own vsock is never touched: nothing here opens
# AF_VSOCK or loads a module on this machine; the outer VM has no vsock
# device; vsock exists only between L1's vhost_vsock and L2.
#
# Exit status: 0 = all checks passed, 1 = a check failed or the run timed out
# or never reported, 2 = usage or set-up error.
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
GUEST_DIR=$(cd "$SCRIPT_DIR/../guest" && pwd)

usage() {
    cat <<EOF
Usage: $(basename "$0") --build DIR [options]
       $(basename "$0") --hvterm PATH --hvtermd PATH [options]

Options:
  --build DIR         build directory: use DIR/hvterm and DIR/hvtermd
  --hvterm PATH       hvterm binary (runs in the host VM, L1)
  --hvtermd PATH      hvtermd binary (runs in the nested guest, L2)
  --checks FILE       checks script run in the host VM as /checks.sh
                      (default: $SCRIPT_DIR/vm-checks.sh)
  --cache DIR         download/unpack cache, shared with the guest tier
                      (default: \${XDG_CACHE_HOME:-\$HOME/.cache}/hvterm-guest)
  --timeout SECONDS   limit for the whole run (default: 1140); the checks in
                      L1 get this minus a margin
  --log FILE          where to keep L1's console log (default: CACHE/last-vm.log)
  --only "NAME..."    run only these checks (after booting the guest), to work
                      on them; the names are those vm-checks.sh prints
  --bench             also take the benchmark rows (tests/bench/README.md), ~3 min
  --verbose           stream L1's whole console, not only the CHECK lines
  -h, --help          this help
EOF
}

say() { echo "run-vm-tests: $*" >&2; }
die() { say "error: $*"; exit 2; }

HVTERM=
HVTERMD=
BUILD=
CACHE=${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/hvterm-guest
TIMEOUT=1140
LOG=
VERBOSE=0
BENCH=0
ONLY=
CHECKS=$SCRIPT_DIR/vm-checks.sh

while [[ $# -gt 0 ]]; do
    opt=$1
    val=
    case $opt in
        --*=*) val=${opt#*=}; opt=${opt%%=*} ;;
        --build | --hvterm | --hvtermd | --checks | --cache | --timeout | --log | --only)
            [[ $# -ge 2 ]] || die "$opt needs a value"
            val=$2
            shift ;;
    esac
    case $opt in
        --build) BUILD=$val ;;
        --hvterm) HVTERM=$val ;;
        --hvtermd) HVTERMD=$val ;;
        --checks) CHECKS=$val ;;
        --cache) CACHE=$val ;;
        --timeout) TIMEOUT=$val ;;
        --log) LOG=$val ;;
        --only) ONLY=$val ;;
        --verbose) VERBOSE=1 ;;
        --bench) BENCH=1 ;;
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
[[ $TIMEOUT =~ ^[0-9]+$ && $TIMEOUT -ge 300 ]] || die "--timeout must be a number of seconds >= 300"
for f in "$HVTERM" "$HVTERMD"; do
    [[ -f $f && -x $f ]] || die "not an executable file: $f"
done
[[ -f $CHECKS ]] || die "no checks script: $CHECKS"
[[ $(uname -m) == x86_64 ]] || die "only x86_64 hosts are supported"

mkdir -p "$CACHE"
CACHE=$(cd "$CACHE" && pwd)
LOG=${LOG:-$CACHE/last-vm.log}
APT_LOG=$CACHE/apt.log
T0=$(date +%s.%N)
elapsed() { awk -v a="$T0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }

# shellcheck source-path=SCRIPTDIR source=../guest/initramfs-lib.sh
. "$GUEST_DIR/initramfs-lib.sh"
ensure_host_tools
locate_packages
HOST_MODULES=(vsock vmw_vsock_virtio_transport_common vhost_iotlb vhost vhost_vsock)
GUEST_MODULES=(virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci
    vsock vmw_vsock_virtio_transport_common vmw_vsock_virtio_transport)
QEMU_BIN=$(command -v qemu-system-x86_64)
QEMU_TCG=/usr/lib/x86_64-linux-gnu/qemu/accel-tcg-x86_64.so
[[ -f $QEMU_TCG ]] || die "no $QEMU_TCG (Debian's qemu-system-x86 ships TCG as this module)"
SOCAT_BIN=$(command -v socat)
DATE_BIN=$(command -v date) # coreutils: busybox date has no %N, the benchmark wants milliseconds

# qemu_layer: a cpio archive of qemu-system-x86_64, its libraries, its TCG
# accelerator (a loadable module in Debian's build) and its firmware, cached
# per qemu binary and library set (~60 MB)
qemu_layer() {
    local key out tmp
    # (ldd's load addresses change from run to run: keyed on the names only)
    key=$( { sha256sum "$QEMU_BIN" "$QEMU_TCG"; LC_ALL=C ldd "$QEMU_BIN" | awk '{ print $1, $3 }'; } |
        sha256sum | cut -c1-16)
    out=$CACHE/vm-qemu-layer-$key.cpio
    if [[ ! -s $out ]]; then
        say "packing qemu-system-x86_64 and its firmware for the host VM"
        tmp=$(mktemp -d "$CACHE/qemu-layer.XXXXXX")
        mkdir -p "$tmp/usr/bin" "$tmp/usr/share"
        copy_with_libs "$tmp" "$QEMU_BIN" /usr/bin/qemu-system-x86_64
        mkdir -p "$tmp$(dirname "$QEMU_TCG")"
        copy_with_libs "$tmp" "$QEMU_TCG" "$QEMU_TCG"
        cp -a /usr/share/qemu /usr/share/seabios "$tmp/usr/share/"
        pack_cpio "$tmp" "$out.tmp.$$"
        mv "$out.tmp.$$" "$out"
        rm -rf "$tmp"
        find "$CACHE" -maxdepth 1 -name 'vm-qemu-layer-*.cpio' ! -name "vm-qemu-layer-$key.cpio" -delete
    fi
    QEMU_LAYER=$out
}

lock_cache
fetch_busybox
fetch_kernel
build_helper
build_ptydrive
qemu_layer
unlock_cache
VMLINUZ=$KDIR/vmlinuz
[[ -n $HELPER ]] || die "the isa-debug-exit helper is required (see $CACHE/helper-build.log)"
T_FETCH=$(elapsed)

WORK=$(mktemp -d "${TMPDIR:-/tmp}/hvterm-vm.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
RUN_ID=$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')
CHECKS_LIMIT=$((TIMEOUT - 60))

# ---------------------------------------------------------------------------
# L2, the guest: hvtermd and socat (the baseline's echo server), started by
# guest-init.sh.

G=$WORK/guest
base_root "$G" "${GUEST_MODULES[@]}"
copy_with_libs "$G" "$HVTERMD" /bin/hvtermd
copy_with_libs "$G" "$SOCAT_BIN" /bin/socat
install -m 0755 "$SCRIPT_DIR/guest-init.sh" "$G/init"
echo "hvterm vm tier: nested guest $RUN_ID" >"$G/.hvterm-vm-marker"

# ---------------------------------------------------------------------------
# L1, the host: hvterm, socat (QMP and the baseline), the helpers, the checks,
# and L2's kernel and initramfs.

H=$WORK/host
base_root "$H" "${HOST_MODULES[@]}"
copy_with_libs "$H" "$HVTERM" /bin/hvterm
copy_with_libs "$H" "$SOCAT_BIN" /bin/socat
mkdir -p "$H/opt/coreutils"
copy_with_libs "$H" "$DATE_BIN" /opt/coreutils/date
install -m 0755 "$HELPER" "$H/bin/isa-debug-exit"
install -m 0755 "$PTYDRIVE" "$H/bin/ptydrive"
install -m 0755 "$SCRIPT_DIR/host-init.sh" "$H/init"
install -m 0755 "$CHECKS" "$H/checks.sh"
mkdir -p "$H/guest"
install -m 0644 "$VMLINUZ" "$H/guest/vmlinuz"
pack_cpio "$G" "$H/guest/initrd.cpio"
cat >"$H/etc/hvterm-vm.conf" <<EOF
RUN_ID=$RUN_ID
CHECKS_LIMIT=$CHECKS_LIMIT
ONLY="$ONLY"
BENCH=$BENCH
GIT_REV=$(git -C "$SCRIPT_DIR" describe --always --dirty 2>/dev/null || echo unknown)
EOF
echo "hvterm vm tier: host $RUN_ID" >"$H/.hvterm-vm-marker"

INITRD=$WORK/initrd.cpio
pack_cpio "$H" "$WORK/run.cpio"
cat "$QEMU_LAYER" "$WORK/run.cpio" >"$INITRD"
T_INITRD=$(elapsed)

# ---------------------------------------------------------------------------
# Boot L1.  Its console is kept in LOG; the CHECK lines (and, with --verbose,
# everything) are shown as they come, so a CI log shows each check's result.

EXPECT_RC=85 # isa-debug-exit: (42<<1)|1
# shellcheck disable=SC2054 # the commas belong to qemu's -device syntax
QEMU=(qemu-system-x86_64 -accel tcg -m 2G -smp 2 -nodefaults -no-user-config -display none
    -no-reboot -serial stdio -device isa-debug-exit,iobase=0xf4,iosize=0x04
    -kernel "$VMLINUZ" -initrd "$INITRD" -append "console=ttyS0 quiet panic=-1")

say "booting the host VM (initramfs $(($(stat -c %s "$INITRD") / 1048576)) MiB, timeout ${TIMEOUT}s, log: $LOG)"
mkdir -p "$(dirname "$LOG")"
if ((VERBOSE)); then SHOW='.'; else SHOW='^CHECK |^    \| |^VM: '; fi
set +e
timeout -k 10 "$TIMEOUT" "${QEMU[@]}" </dev/null 2>"$WORK/qemu.err" | sed -u 's/\r//g' | tee "$LOG" |
    grep -a --line-buffered -E "$SHOW" >&2
QEMU_RC=${PIPESTATUS[0]}
set -e
if [[ -s $WORK/qemu.err ]]; then
    { echo "--- qemu stderr ---"; cat "$WORK/qemu.err"; } >>"$LOG"
fi
T_END=$(elapsed)

# ---------------------------------------------------------------------------
# Verdict: qemu_verdict (initramfs-lib.sh) passes only this run's PASS line
# together with the exit status /init asks qemu for.

# (the load of this machine: the timings and the BENCH figures depend on it)
TIMES="set-up ${T_FETCH}s, initramfs $(awk -v a="$T_FETCH" -v b="$T_INITRD" 'BEGIN { printf "%.1f", b - a }')s, total ${T_END}s, load averages $(cut -d' ' -f1-3 /proc/loadavg)"
qemu_verdict HVTERM-VM "the host VM" '^HVTERM-VM: host kernel' 400 "$TIMES"
