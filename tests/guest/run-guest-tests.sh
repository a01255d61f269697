#!/usr/bin/env bash
# run-guest-tests.sh: boot a throw-away QEMU guest that has real AF_VSOCK
# (Debian's cloud kernel + vsock_loopback, software emulation) and run the
# guest checks (tests/guest/guest-checks.sh) inside it with the given hvterm
# and hvtermd binaries (--build DIR: DIR/hvterm and DIR/hvtermd).
#
# CI:   tests/guest/run-guest-tests.sh --build build --timeout 180
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
# Host tools: qemu (installed from Debian if missing).

apt_install() {
    export DEBIAN_FRONTEND=noninteractive
    if ! apt-get install -y --no-install-recommends "$@" >>"$APT_LOG" 2>&1; then
        say "apt-get install failed; running apt-get update and retrying"
        apt-get update >>"$APT_LOG" 2>&1 || true
        apt-get install -y --no-install-recommends "$@" >>"$APT_LOG" 2>&1 ||
            { tail -n 30 "$APT_LOG" >&2; die "could not install $* (log: $APT_LOG)"; }
    fi
}

if ! command -v qemu-system-x86_64 >/dev/null 2>&1; then
    say "installing qemu-system-x86"
    apt_install qemu-system-x86
fi

# socat always goes into the guest: the vsock sanity checks use it, and the
# resume checks relay hvterm's connections through it to cut them.
if ! command -v socat >/dev/null 2>&1; then
    say "installing socat"
    apt_install socat
fi
EXTRAS=("$(command -v socat)" "${EXTRAS[@]}")

# ---------------------------------------------------------------------------
# Guest kernel and busybox: downloaded (never installed) from Debian, unpacked
# into the cache, keyed on package name and version.

# (each apt-cache call costs ~0.5 s here, hence one policy call for both)
resolve_packages() {
    local policy
    KPKG=$(apt-cache depends linux-image-cloud-amd64 2>/dev/null |
        awk '$1 == "Depends:" && $2 ~ /^linux-image-/ { print $2; exit }')
    [[ -n $KPKG ]] || return 1
    policy=$(apt-cache policy "$KPKG" busybox-static 2>/dev/null)
    candidate() { awk -v p="$1:" '$1 == p { in_p = 1; next } /^[^ ]/ { in_p = 0 }
        in_p && $1 == "Candidate:" && $2 != "(none)" { print $2; exit }' <<<"$policy"; }
    KVER=$(candidate "$KPKG")
    BBVER=$(candidate busybox-static)
    [[ -n $KVER && -n $BBVER ]]
}

# newest complete cache entry matching a glob, for when apt knows nothing
newest_cached() {
    local d
    # shellcheck disable=SC2012,SC2086 # $1 is a glob; cache names are plain
    d=$(ls -1td "$CACHE"/$1/.complete 2>/dev/null | head -n 1) || true
    [[ -n $d ]] && dirname "$d"
}

KDIR=
BBDIR=
if resolve_packages; then
    :
elif KDIR=$(newest_cached 'linux-image-*') && BBDIR=$(newest_cached 'busybox-static_*'); then
    say "apt does not know linux-image-cloud-amd64; using the cached $(basename "$KDIR") and $(basename "$BBDIR")"
else
    say "apt lists are empty or stale; running apt-get update"
    apt-get update >>"$APT_LOG" 2>&1 || { tail -n 30 "$APT_LOG" >&2; die "apt-get update failed (log: $APT_LOG)"; }
    resolve_packages || die "cannot resolve linux-image-cloud-amd64 / busybox-static with apt-cache"
fi
KDIR=${KDIR:-$CACHE/${KPKG}_${KVER//:/_}}
BBDIR=${BBDIR:-$CACHE/busybox-static_${BBVER//:/_}}

VSOCK_MODULES=(vsock vmw_vsock_virtio_transport_common vsock_loopback)

# download_unpack PKG VERSION DIR: apt-get download PKG=VERSION and dpkg-deb -x it into DIR
download_unpack() {
    local dl
    dl=$(mktemp -d "$CACHE/download.XXXXXX")
    chmod 0777 "$dl" # apt downloads as user _apt when it can
    say "downloading $1 $2"
    (cd "$dl" && apt-get download "$1=$2" >>"$APT_LOG" 2>&1) ||
        { rm -rf "$dl"; tail -n 30 "$APT_LOG" >&2; die "apt-get download $1=$2 failed (log: $APT_LOG)"; }
    dpkg-deb -x "$dl"/*.deb "$3"
    rm -rf "$dl"
}

# decompress_module SRC DEST: modules may ship compressed (.ko.xz/.zst/.gz)
decompress_module() {
    case $1 in
        *.ko) cp "$1" "$2" ;;
        *.ko.xz) "$BUSYBOX" unxz -c "$1" >"$2" ;;
        *.ko.gz) "$BUSYBOX" gunzip -c "$1" >"$2" ;;
        *.ko.zst)
            command -v zstd >/dev/null 2>&1 || apt_install zstd
            zstd -q -d -c "$1" >"$2" ;;
        *) die "unknown module format: $1" ;;
    esac
}

fetch_busybox() {
    [[ -e $BBDIR/.complete ]] && return 0
    local tmp=$BBDIR.tmp.$$
    rm -rf "$tmp"
    mkdir -p "$tmp/x"
    download_unpack busybox-static "$BBVER" "$tmp/x"
    install -m 0755 "$tmp/x/bin/busybox" "$tmp/busybox"
    rm -rf "$tmp/x"
    touch "$tmp/.complete"
    rm -rf "$BBDIR"
    mv "$tmp" "$BBDIR"
}

fetch_kernel() {
    [[ -e $KDIR/.complete ]] && return 0
    local tmp=$KDIR.tmp.$$ m src
    rm -rf "$tmp"
    mkdir -p "$tmp/x" "$tmp/modules"
    download_unpack "$KPKG" "$KVER" "$tmp/x"
    src=$(find "$tmp/x/boot" -name 'vmlinuz-*' | head -n 1)
    [[ -n $src ]] || die "no vmlinuz in $KPKG"
    mv "$src" "$tmp/vmlinuz"
    for m in "${VSOCK_MODULES[@]}"; do
        src=$(find "$tmp/x" -path '*/kernel/net/vmw_vsock/*' \( -name "$m.ko" -o -name "$m.ko.*" \) | head -n 1)
        [[ -n $src ]] || die "no $m module in $KPKG"
        decompress_module "$src" "$tmp/modules/$m.ko"
    done
    rm -rf "$tmp/x"
    touch "$tmp/.complete"
    rm -rf "$KDIR"
    mv "$tmp" "$KDIR"
}

# isa-debug-exit helper (tiny freestanding static program), cached by source hash
HELPER_SRC=$SCRIPT_DIR/isa-debug-exit.c
HELPER=
build_helper() {
    [[ -f $HELPER_SRC ]] || return 0
    local sum cc out
    sum=$(sha256sum "$HELPER_SRC" | cut -c1-16)
    out=$CACHE/isa-debug-exit-$sum
    if [[ ! -x $out ]]; then
        for cc in cc gcc clang; do
            command -v "$cc" >/dev/null 2>&1 || continue
            if "$cc" -static -nostdlib -ffreestanding -fno-stack-protector -fno-pie -no-pie -O2 \
                -o "$out.tmp.$$" "$HELPER_SRC" >>"$CACHE/helper-build.log" 2>&1; then
                mv "$out.tmp.$$" "$out"
                break
            fi
            rm -f "$out.tmp.$$"
        done
    fi
    if [[ -x $out ]]; then
        HELPER=$out
    else
        say "warning: could not build $HELPER_SRC (see $CACHE/helper-build.log); the guest will use poweroff -f"
    fi
}

# ptydrive: the PTY driver the interactive checks use (busybox has no script
# or expect); static glibc program, cached by source hash.  Required.
PTYDRIVE_SRC=$SCRIPT_DIR/ptydrive.c
PTYDRIVE=
build_ptydrive() {
    local sum cc out
    [[ -f $PTYDRIVE_SRC ]] || die "missing $PTYDRIVE_SRC"
    sum=$(sha256sum "$PTYDRIVE_SRC" | cut -c1-16)
    out=$CACHE/ptydrive-$sum
    if [[ ! -x $out ]]; then
        for cc in cc gcc clang; do
            command -v "$cc" >/dev/null 2>&1 || continue
            if "$cc" -static -O2 -Wall -o "$out.tmp.$$" "$PTYDRIVE_SRC" -lutil \
                >>"$CACHE/ptydrive-build.log" 2>&1; then
                mv "$out.tmp.$$" "$out"
                break
            fi
            rm -f "$out.tmp.$$"
        done
    fi
    # drop the builds of older ptydrive.c versions
    find "$CACHE" -maxdepth 1 -name 'ptydrive-*' ! -name "ptydrive-$sum" ! -name '*.log' -delete 2>/dev/null || true
    [[ -x $out ]] || { tail -n 20 "$CACHE/ptydrive-build.log" >&2; die "could not build $PTYDRIVE_SRC statically (log: $CACHE/ptydrive-build.log; needs a C compiler and the static libc, e.g. libc6-dev)"; }
    PTYDRIVE=$out
}

exec 9>"$CACHE/.lock"
flock 9
BUSYBOX=$BBDIR/busybox
fetch_busybox
fetch_kernel
build_helper
build_ptydrive
flock -u 9
VMLINUZ=$KDIR/vmlinuz
T_FETCH=$(elapsed)

# ---------------------------------------------------------------------------
# Initramfs.

WORK=$(mktemp -d "${TMPDIR:-/tmp}/hvterm-guest.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
R=$WORK/root
mkdir -p "$R"/{bin,sbin,usr/bin,usr/sbin,lib/modules,etc,root,proc,sys,dev,tmp,run,var/tmp}

install -m 0755 "$BUSYBOX" "$R/bin/busybox"
while read -r applet; do
    [[ -e $R/$applet || -L $R/$applet ]] || ln -s /bin/busybox "$R/$applet"
done < <("$BUSYBOX" --list-full)

for m in "${VSOCK_MODULES[@]}"; do
    install -m 0644 "$KDIR/modules/$m.ko" "$R/lib/modules/$m.ko"
done

# copy_with_libs SRC DEST: a program and every shared object ldd lists for it
copy_with_libs() {
    local out lib
    install -m 0755 "$1" "$R$2"
    if ! out=$(LC_ALL=C ldd "$1" 2>&1); then
        [[ $out == *"not a dynamic executable"* ]] && return 0
        die "ldd $1 failed: $out"
    fi
    if grep -q 'not found' <<<"$out"; then die "ldd $1: missing libraries:"$'\n'"$out"; fi
    while read -r lib; do
        [[ -e $R$lib ]] && continue
        mkdir -p "$R$(dirname "$lib")"
        cp -L "$lib" "$R$lib"
    done < <(awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }' <<<"$out")
}

copy_with_libs "$HVTERM" /bin/hvterm
copy_with_libs "$HVTERMD" /bin/hvtermd
for x in "${EXTRAS[@]}"; do
    copy_with_libs "$x" "/bin/$(basename "$x")"
done
[[ -n $HELPER ]] && install -m 0755 "$HELPER" "$R/bin/isa-debug-exit"
install -m 0755 "$PTYDRIVE" "$R/bin/ptydrive"
install -m 0755 "$CHECKS" "$R/checks.sh"

RUN_ID=$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')
if ((TIMEOUT >= 60)); then GUEST_TIMEOUT=$((TIMEOUT - 30)); else GUEST_TIMEOUT=$((TIMEOUT / 2)); fi
echo "hvterm guest test initramfs $RUN_ID" >"$R/.hvterm-guest-marker"

cat >"$R/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
EOF
cat >"$R/etc/group" <<'EOF'
root:x:0:
tty:x:5:
nogroup:x:65534:
EOF
cat >"$R/etc/nsswitch.conf" <<'EOF'
passwd: files
group: files
hosts: files
EOF
cat >"$R/etc/hosts" <<'EOF'
127.0.0.1 localhost
::1 localhost
EOF
echo /bin/sh >"$R/etc/shells"
cat >"$R/etc/hvterm-guest.conf" <<EOF
RUN_ID=$RUN_ID
GUEST_TIMEOUT=$GUEST_TIMEOUT
EOF

cat >"$R/init" <<'EOF'
#!/bin/sh
# /init of the hvterm test guest (generated by tests/guest/run-guest-tests.sh)
export PATH=/bin:/sbin:/usr/bin:/usr/sbin HOME=/root TERM=vt100 USER=root LOGNAME=root SHELL=/bin/sh LANG=C
mount -t devtmpfs devtmpfs /dev
exec </dev/console >/dev/console 2>&1
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mkdir -p /dev/pts /dev/shm
mount -t devpts -o newinstance,ptmxmode=0666,mode=0620,gid=5 devpts /dev/pts
rm -f /dev/ptmx
ln -s pts/ptmx /dev/ptmx
mount -t tmpfs -o mode=1777 tmpfs /tmp
mount -t tmpfs -o mode=1777 tmpfs /dev/shm
hostname hvterm-guest
ip link set lo up
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
(cd "$R" && find . -mindepth 1 | LC_ALL=C sort | "$BUSYBOX" cpio -o -H newc -R 0:0 2>/dev/null) >"$INITRD"
T_INITRD=$(elapsed)

# ---------------------------------------------------------------------------
# Boot.

if [[ -n $HELPER ]]; then EXPECT_RC=85; else EXPECT_RC=0; fi # isa-debug-exit: (42<<1)|1
# shellcheck disable=SC2054 # the commas belong to qemu's -device syntax
QEMU=(qemu-system-x86_64 -accel tcg -m 512M -smp 2 -nodefaults -no-user-config -display none
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
# Verdict: the PASS line of this run (its random id) AND the exit status the
# guest's /init asks qemu for.  Anything else is a failure.

((VERBOSE)) || grep -a '^CHECK' "$LOG" >&2 || true
reason=
if grep -aq "HVTERM-GUEST-RESULT: PASS run=$RUN_ID" "$LOG"; then
    if grep -aq "HVTERM-GUEST-RESULT: FAIL" "$LOG"; then
        reason="both PASS and FAIL lines in the guest log"
    elif [[ $QEMU_RC != "$EXPECT_RC" ]]; then
        reason="guest printed PASS but qemu exited with $QEMU_RC (expected $EXPECT_RC)"
    fi
elif grep -aq "HVTERM-GUEST-RESULT: FAIL" "$LOG"; then
    reason="guest checks failed: $(grep -a -o 'HVTERM-GUEST-RESULT: FAIL rc=[0-9]*' "$LOG" | head -n 1)"
elif [[ $QEMU_RC == 124 || $QEMU_RC == 137 ]]; then
    reason="timed out after ${TIMEOUT}s"
elif grep -aq '^HVTERM-GUEST: kernel' "$LOG"; then
    reason="guest started the checks but never reported a result (qemu exit $QEMU_RC)"
else
    reason="guest did not reach the checks (qemu exit $QEMU_RC)"
fi

TIMES="set-up ${T_FETCH}s, initramfs $(awk -v a="$T_FETCH" -v b="$T_INITRD" 'BEGIN { printf "%.1f", b - a }')s, total ${T_END}s"
if [[ -z $reason ]]; then
    say "PASS ($TIMES)"
    exit 0
fi
if ((!VERBOSE)); then
    # from where /init starts the checks (the kernel's boot messages are noise), at most 600 lines
    if grep -aq '^HVTERM-GUEST: kernel' "$LOG"; then
        echo "=== guest console log ($LOG, from the start of the checks) ===" >&2
        sed -n '/^HVTERM-GUEST: kernel/,$p' "$LOG" | tail -n 600 >&2
    else
        echo "=== guest console log (last 200 lines of $LOG) ===" >&2
        tail -n 200 "$LOG" >&2
    fi
    echo "=== end of guest console log ===" >&2
fi
say "FAIL: $reason ($TIMES)"
exit 1
