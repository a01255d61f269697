#!/bin/sh
# /init of the vm tier's nested guest (L2), put there by tests/vm/run-vm-tests.sh.
# Loads virtio-pci and the virtio vsock transport (the device is QEMU's
# vhost-vsock-pci, guest-cid=3), then starts, with their output on the console
# (which L1 keeps in a file the checks read):
#   hvtermd with its defaults: AF_VSOCK port 18518, --allow-cid 2 (the host),
#     logging each connection (--log-level debug)
#   hvtermd --port 18519 --allow-cid 5: must refuse the host (logs a warning)
#   socat echo (EXEC:cat) on vsock port 18600, the benchmark's baseline
#   socat EXEC:true on vsock port 18601, the set-up baseline
# and then idles.  This guest is paused, snapshotted and restored by the checks;
# after a restore nothing here runs again: the processes simply go on.
export PATH=/bin:/sbin:/usr/bin:/usr/sbin HOME=/root TERM=vt100 USER=root LOGNAME=root SHELL=/bin/sh LANG=C
# shellcheck disable=SC1091 # written by initramfs-lib.sh (base_root)
. /etc/init-mounts.sh
hostname hvterm-vm-guest
if [ ! -e /.hvterm-vm-marker ]; then
    echo "HVTERM-L2: refusing to run outside the vm tier's nested guest"
    exit 1
fi
for m in virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci \
    vsock vmw_vsock_virtio_transport_common vmw_vsock_virtio_transport; do
    insmod /lib/modules/$m.ko || echo "HVTERM-L2: insmod $m failed"
done
cd /root || exit 1
# (logging straight to the console: a pipe through sed held lines back)
hvtermd --log-level debug </dev/null &
hvtermd --port 18519 --allow-cid 5 </dev/null &
socat VSOCK-LISTEN:18600,fork,reuseaddr EXEC:cat </dev/null >/dev/null 2>&1 &
socat VSOCK-LISTEN:18601,fork,reuseaddr EXEC:true </dev/null >/dev/null 2>&1 &
echo "HVTERM-L2: ready, kernel $(uname -r), $(grep -c . /proc/net/protocols) protocols$(grep -q '^AF_VSOCK' /proc/net/protocols && echo ', AF_VSOCK')"
while :; do sleep 3600; done
