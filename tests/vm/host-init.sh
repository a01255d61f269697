#!/bin/sh
# /init of the vm tier's host VM (L1), put there by tests/vm/run-vm-tests.sh.
# Loads vhost_vsock (this VM becomes a vsock host, CID 2), runs /checks.sh
# (tests/vm/vm-checks.sh) under a time limit and reports the verdict twice:
# a HVTERM-VM-RESULT line with the run's id, and the isa-debug-exit status.
export PATH=/bin:/sbin:/usr/bin:/usr/sbin HOME=/root TERM=vt100 USER=root LOGNAME=root SHELL=/bin/sh LANG=C
# shellcheck disable=SC1091 # written by initramfs-lib.sh (base_root)
. /etc/init-mounts.sh
hostname hvterm-vm-host
for m in vsock vmw_vsock_virtio_transport_common vhost_iotlb vhost vhost_vsock; do
    insmod /lib/modules/$m.ko || echo "HVTERM-VM: insmod $m failed"
done
# shellcheck disable=SC1091 # written by run-vm-tests.sh
. /etc/hvterm-vm.conf
cd /root || exit 1
echo "HVTERM-VM: host kernel $(uname -r), running /checks.sh (limit ${CHECKS_LIMIT}s)"
timeout -k 5 "$CHECKS_LIMIT" sh /checks.sh
rc=$?
cd /
echo
if [ "$rc" -eq 0 ]; then
    echo "HVTERM-VM-RESULT: PASS run=$RUN_ID"
    code=42
else
    echo "HVTERM-VM-RESULT: FAIL rc=$rc run=$RUN_ID"
    code=1
fi
sync
/bin/isa-debug-exit "$code"
poweroff -f
