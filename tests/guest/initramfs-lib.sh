# shellcheck shell=bash disable=SC2034 # the variables set here are for the sourcing script
# initramfs-lib.sh: what the QEMU test tiers share (sourced by bash, not run).
#
# tests/guest/run-guest-tests.sh (one guest, vsock_loopback) and
# tests/vm/run-vm-tests.sh (a guest nested in a host VM, vhost-vsock) both boot
# Debian's cloud kernel with an initramfs made of busybox, a few kernel
# modules and the programs under test.  This file downloads (never installs)
# the kernel and busybox packages into a cache, builds the two static helpers
# (isa-debug-exit.c, ptydrive.c), and lays out and packs an initramfs.
#
# The sourcing script defines say() and die() and sets:
#   CACHE     download/unpack cache (an absolute path; created)
#   APT_LOG   where apt's output goes
# It calls, in this order: ensure_host_tools; locate_packages; then, holding
# the cache lock (lock_cache / unlock_cache): fetch_busybox, fetch_kernel,
# build_helper, build_ptydrive.  Afterwards KDIR/vmlinuz, KDIR/modules/NAME.ko,
# BUSYBOX, HELPER (may be empty) and PTYDRIVE are set.

INITRAMFS_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# Every module either tier loads, unpacked from the kernel package.  Loaded with
# insmod (no modules.dep), so each tier lists its own in dependency order.
KERNEL_MODULES=(vsock vmw_vsock_virtio_transport_common vsock_loopback vmw_vsock_virtio_transport
    virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci vhost_iotlb vhost vhost_vsock)

apt_install() {
    export DEBIAN_FRONTEND=noninteractive
    if ! apt-get install -y --no-install-recommends "$@" >>"$APT_LOG" 2>&1; then
        say "apt-get install failed; running apt-get update and retrying"
        apt-get update >>"$APT_LOG" 2>&1 || true
        apt-get install -y --no-install-recommends "$@" >>"$APT_LOG" 2>&1 ||
            { tail -n 30 "$APT_LOG" >&2; die "could not install $* (log: $APT_LOG)"; }
    fi
}

# ensure_host_tools: qemu and socat (installed from Debian if missing)
ensure_host_tools() {
    if ! command -v qemu-system-x86_64 >/dev/null 2>&1; then
        say "installing qemu-system-x86"
        apt_install qemu-system-x86
    fi
    if ! command -v socat >/dev/null 2>&1; then
        say "installing socat"
        apt_install socat
    fi
}

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

# locate_packages: sets KDIR and BBDIR (the cache entries of the kernel and busybox)
locate_packages() {
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
    BUSYBOX=$BBDIR/busybox
}

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

lock_cache() {
    exec 9>"$CACHE/.lock"
    flock 9
}
unlock_cache() { flock -u 9; }

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

# the cache entry is complete and has every module of KERNEL_MODULES (an entry
# made by an older version of this file may have fewer)
kernel_cached() {
    local m
    [[ -e $KDIR/.complete ]] || return 1
    for m in "${KERNEL_MODULES[@]}"; do
        [[ -e $KDIR/modules/$m.ko ]] || return 1
    done
}

fetch_kernel() {
    kernel_cached && return 0
    [[ -n ${KVER:-} ]] || die "the cached $(basename "$KDIR") lacks modules and apt cannot download it again"
    local tmp=$KDIR.tmp.$$ m src
    rm -rf "$tmp"
    mkdir -p "$tmp/x" "$tmp/modules"
    download_unpack "$KPKG" "$KVER" "$tmp/x"
    src=$(find "$tmp/x/boot" -name 'vmlinuz-*' | head -n 1)
    [[ -n $src ]] || die "no vmlinuz in $KPKG"
    mv "$src" "$tmp/vmlinuz"
    for m in "${KERNEL_MODULES[@]}"; do
        src=$(find "$tmp/x" -path '*/kernel/*' \( -name "$m.ko" -o -name "$m.ko.*" \) | head -n 1)
        [[ -n $src ]] || die "no $m module in $KPKG"
        decompress_module "$src" "$tmp/modules/$m.ko"
    done
    rm -rf "$tmp/x"
    touch "$tmp/.complete"
    rm -rf "$KDIR"
    mv "$tmp" "$KDIR"
}

# isa-debug-exit helper (tiny freestanding static program), cached by source hash
HELPER_SRC=$INITRAMFS_LIB_DIR/isa-debug-exit.c
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
PTYDRIVE_SRC=$INITRAMFS_LIB_DIR/ptydrive.c
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

# base_root ROOT MODULE...: busybox with every applet, the given kernel modules
# in ROOT/lib/modules, /etc files for root and a tty group, /etc/init-mounts.sh,
# the check runner /lib/check-lib.sh and the guard marker /.hvterm-guest-marker (the helpers refuse to run
# without it)
base_root() {
    local root=$1 m applet
    shift
    mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,lib/modules,etc,root,proc,sys,dev,tmp,run,var/tmp}
    install -m 0755 "$BUSYBOX" "$root/bin/busybox"
    while read -r applet; do
        [[ -e $root/$applet || -L $root/$applet ]] || ln -s /bin/busybox "$root/$applet"
    done < <("$BUSYBOX" --list-full)
    for m in "$@"; do
        install -m 0644 "$KDIR/modules/$m.ko" "$root/lib/modules/$m.ko"
    done
    cat >"$root/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
EOF
    cat >"$root/etc/group" <<'EOF'
root:x:0:
tty:x:5:
nogroup:x:65534:
EOF
    cat >"$root/etc/nsswitch.conf" <<'EOF'
passwd: files
group: files
hosts: files
EOF
    cat >"$root/etc/hosts" <<'EOF'
127.0.0.1 localhost
::1 localhost
EOF
    echo /bin/sh >"$root/etc/shells"
    echo "hvterm guest test initramfs" >"$root/.hvterm-guest-marker"
    install -m 0644 "$INITRAMFS_LIB_DIR/check-lib.sh" "$root/lib/check-lib.sh"
    # what every /init sources first: devtmpfs, the console as stdio, proc, sys,
    # devpts with its own ptmx, tmpfs on /tmp and /dev/shm, loopback up
    cat >"$root/etc/init-mounts.sh" <<'EOF'
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
ip link set lo up
EOF
}

# copy_with_libs ROOT SRC DEST: a program and every shared object ldd lists for it
copy_with_libs() {
    local root=$1 out lib
    install -m 0755 "$2" "$root$3"
    if ! out=$(LC_ALL=C ldd "$2" 2>&1); then
        [[ $out == *"not a dynamic executable"* ]] && return 0
        die "ldd $2 failed: $out"
    fi
    if grep -q 'not found' <<<"$out"; then die "ldd $2: missing libraries:"$'\n'"$out"; fi
    while read -r lib; do
        [[ -e $root$lib ]] && continue
        mkdir -p "$root$(dirname "$lib")"
        cp -L "$lib" "$root$lib"
    done < <(awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }' <<<"$out")
}

# pack_cpio ROOT FILE: ROOT as a newc cpio archive (the host has no cpio; busybox does)
pack_cpio() {
    (cd "$1" && find . -mindepth 1 | LC_ALL=C sort | "$BUSYBOX" cpio -o -H newc -R 0:0 2>/dev/null) >"$2"
}

# The verdict of a QEMU run, and the exit status of the tier script (it does
# not return).  Passed: MARK, the prefix of the lines /init prints
# (HVTERM-GUEST or HVTERM-VM: "MARK-RESULT: PASS run=ID", "MARK: ..."); WHAT,
# what booted ("guest", "the host VM"); START, the pattern of the line from
# which the console log is worth showing; TAIL, how many lines of it at most;
# TIMES, the timings for the last line.  Uses LOG, RUN_ID, QEMU_RC, EXPECT_RC,
# TIMEOUT and VERBOSE.  A pass needs this run's PASS line AND the exit status
# /init asks qemu for; anything else is a failure with its reason.
qemu_verdict() {
    local mark=$1 what=$2 start=$3 tail_lines=$4 times=$5 reason=
    if grep -aq "$mark-RESULT: PASS run=$RUN_ID" "$LOG"; then
        if grep -aq "$mark-RESULT: FAIL" "$LOG"; then
            reason="both PASS and FAIL lines in the log"
        elif [[ $QEMU_RC != "$EXPECT_RC" ]]; then
            reason="$what printed PASS but qemu exited with $QEMU_RC (expected $EXPECT_RC)"
        fi
    elif grep -aq "$mark-RESULT: FAIL" "$LOG"; then
        reason="checks failed: $(grep -a -o "$mark-RESULT: FAIL rc=[0-9]*" "$LOG" | head -n 1)"
    elif [[ $QEMU_RC == 124 || $QEMU_RC == 137 ]]; then
        reason="timed out after ${TIMEOUT}s"
    elif grep -aq "$start" "$LOG"; then
        reason="$what started the checks but never reported a result (qemu exit $QEMU_RC)"
    else
        reason="$what did not reach the checks (qemu exit $QEMU_RC)"
    fi
    if [[ -z $reason ]]; then
        say "PASS ($times)"
        exit 0
    fi
    if ((!VERBOSE)); then
        # from where /init starts the checks (the kernel's boot messages are noise)
        if grep -aq "$start" "$LOG"; then
            echo "=== $what: console log ($LOG, from the start of the checks, last $tail_lines lines) ===" >&2
            sed -n "/$start/,\$p" "$LOG" | tail -n "$tail_lines" >&2
        else
            echo "=== $what: console log (last 200 lines of $LOG) ===" >&2
            tail -n 200 "$LOG" >&2
        fi
        echo "=== end of the console log ===" >&2
    fi
    say "FAIL: $reason ($times)"
    exit 1
}
