#!/usr/bin/env bash
# Exit 0 when scripts/setup.sh has something to do (a tool missing or bpffs unmounted).
for tool in clang bpftool ip ethtool curl busybox conntrack capsh socat iptables ipset node npm \
            qemu-system-x86_64 cpio depmod modprobe xz ipvsadm nft; do # the second line: tests/vm
    command -v "$tool" >/dev/null || PATH="$PATH:/usr/sbin:/sbin" command -v "$tool" >/dev/null || exit 0
done
[ -f /usr/include/bpf/bpf_helpers.h ] || exit 0
mountpoint -q /sys/fs/bpf || exit 0
exit 1
