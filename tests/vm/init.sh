#!/bin/busybox sh
# shellcheck shell=sh
# PID 1 of the test VM (busybox, in the initramfs built by build.sh). Loads the modules, makes
# the host's / (9p, read-only) the root with a writable tmpfs layer, runs the command run.sh
# wrote into the "out" share, stores its exit status there and powers off.
/bin/busybox mkdir -p /proc /sys /dev /sbin /usr/bin /usr/sbin
/bin/busybox --install -s
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev

fail() { echo "vm-init: $*"; poweroff -f; }

while read -r ko params; do
    # shellcheck disable=SC2086 # params are separate words
    insmod "/lib/modules/$ko" $params || echo "vm-init: insmod $ko failed"
done </modules.list

p9="trans=virtio,version=9p2000.L,msize=262144"
mkdir -p /out /host /newroot
mount -t 9p -o "$p9,cache=none" out /out || fail "cannot mount the out share"
mount -t 9p -o "$p9,ro,cache=loose" host /host || fail "cannot mount the host root"

# The root: the host's / read-only under a tmpfs overlay (writes work anywhere and vanish at
# power-off); without overlayfs, the host's / itself with tmpfs where writes must work.
R=/newroot
mkdir -p /rw && mount -t tmpfs -o mode=0755 rw /rw && mkdir -p /rw/upper /rw/work
if ! mount -t overlay overlay -o lowerdir=/host,upperdir=/rw/upper,workdir=/rw/work "$R" 2>/dev/null; then
    R=/host
    echo "vm-init: no overlay; tmpfs on /root /var/lib /home /tmp /var/tmp"
    for d in root var/lib home; do mount -t tmpfs -o mode=0755 tmpfs "$R/$d"; done
    for d in tmp var/tmp; do mount -t tmpfs -o mode=1777 tmpfs "$R/$d"; done
fi
mount -t proc proc "$R/proc"
mount -t sysfs sys "$R/sys"
mount -t devtmpfs dev "$R/dev"
mkdir -p "$R/dev/pts" "$R/dev/shm"
mount -t devpts -o newinstance,ptmxmode=0666 devpts "$R/dev/pts"
mount -t tmpfs -o mode=1777 shm "$R/dev/shm"
mount -t tmpfs -o mode=0755 run "$R/run"
mount -t bpf bpf "$R/sys/fs/bpf"
mount -t tracefs tracefs "$R/sys/kernel/tracing" 2>/dev/null
mount -t debugfs debugfs "$R/sys/kernel/debug" 2>/dev/null
# cgroup v2 where the host has it: /sys/fs/cgroup/unified.
mount -t tmpfs -o mode=0755 cgroup "$R/sys/fs/cgroup" &&
    mkdir "$R/sys/fs/cgroup/unified" && mount -t cgroup2 cgroup2 "$R/sys/fs/cgroup/unified"
mkdir -p "$R/run/xdplb-vm"
mount --bind /out "$R/run/xdplb-vm"
# Writable host folders asked for with run.sh --rw: "TAG PATH" lines.
if [ -f /out/shares ]; then
    while read -r tag path; do
        mount -t 9p -o "$p9,cache=none" "$tag" "$R$path" || fail "cannot mount $path"
    done </out/shares
fi
hostname xdplb-vm
ip link set lo up

# The command's output goes to the virtio port run.sh reads (not a tty); the console (ttyS0)
# keeps the kernel's messages and ours.
port=/dev/console
for p in /sys/class/virtio-ports/*; do
    [ "$(cat "$p/name" 2>/dev/null)" = xdplb.out ] && port=/dev/${p##*/}
done
[ "$port" != /dev/console ] || echo "vm-init: no output port: the output goes to the console"
chroot "$R" /usr/bin/env -i /bin/bash /run/xdplb-vm/cmd.sh </dev/null >"$port" 2>&1
echo "$?" >/out/status
sync
poweroff -f
