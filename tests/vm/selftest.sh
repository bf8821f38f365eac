#!/usr/bin/env bash
# Checks the test VM in one boot: IPVS (table, every scheduler, a real TCP connection through a
# NAT service between namespaces), dummy/ipip/nftables, bpffs, cgroup2, no outside network
# device, a writable root, dotnet. Prints PASS/FAIL lines, the boot time and dotnet's start-up;
# exits non-zero if a check failed.
set -euo pipefail

if [ "${XDPLB_VM:-}" != 1 ]; then # on the host: boot the VM and run this script inside it
    here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
    "$here/build.sh" >/dev/null
    start=$(date +%s%N)
    "$here/run.sh" --timeout 300 -- bash "$here/selftest.sh" | while IFS= read -r line; do
        if [ "$line" = "selftest: booted" ]; then
            echo "selftest: boot $(( ($(date +%s%N) - start) / 1000000 )) ms (qemu start to the command)"
        else
            printf '%s\n' "$line"
        fi
    done
    exit "${PIPESTATUS[0]}"
fi

echo "selftest: booted"
passed=0 failed=0
check() { # check NAME COMMAND...: runs COMMAND, PASS if it exits 0 (its output shown on FAIL)
    local name=$1 out
    shift
    if out=$("$@" 2>&1); then
        echo "PASS $name"; passed=$((passed + 1))
    else
        echo "FAIL $name"; printf '%s\n' "$out" | sed 's/^/    /'; failed=$((failed + 1))
    fi
}

empty_table() {
    local out
    out=$(ipvsadm -Ln)
    printf '%s\n' "$out"
    grep -q '^IP Virtual Server version' <<<"$out" && [ "$(wc -l <<<"$out")" -eq 3 ]
}
schedulers() {
    local s port=1000
    for s in rr wrr lc wlc lblc lblcr sh dh sed nq mh fo ovf; do
        port=$((port + 1))
        ipvsadm -A -t "10.96.0.2:$port" -s "$s" || return 1
        ipvsadm -Ln | grep -q "10.96.0.2:$port $s" || return 1
    done
    ipvsadm -C
}
links() {
    ip link add d0 type dummy && ip link add t0 type ipip remote 10.0.0.1 local 10.0.0.2 &&
        ip link add t6 type ip6tnl remote fd00::1 local fd00::2 mode ipip6 &&
        ip link add veth0 type veth peer name veth1 && ip link add link d0 name d0.5 type vlan id 5 &&
        nft add table ip t && nft add chain ip t post '{ type nat hook postrouting priority 100; }' &&
        nft add rule ip t post oifname veth0 masquerade && echo ok
}
sctp_socket() { [ -d /proc/sys/net/sctp ] && grep -q '^sctp ' /proc/modules; }
ipvs_tcp() { # a client in the root namespace, a backend in netns vmb, NAT through 10.96.0.1:80
    ip netns add vmb &&
        ip link add vb0 type veth peer name vb1 netns vmb &&
        ip addr add 10.1.0.1/24 dev vb0 && ip link set vb0 up &&
        ip -n vmb addr add 10.1.0.2/24 dev vb1 && ip -n vmb link set vb1 up && ip -n vmb link set lo up &&
        ip -n vmb route add default via 10.1.0.1 || return 1
    mkdir -p /tmp/www && echo "hello from the backend" >/tmp/www/index.html &&
        ip netns exec vmb busybox httpd -p 8080 -h /tmp/www || return 1
    ip link add kube-ipvs0 type dummy && ip addr add 10.96.0.1/32 dev kube-ipvs0 &&
        ipvsadm -A -t 10.96.0.1:80 -s rr && ipvsadm -a -t 10.96.0.1:80 -r 10.1.0.2:8080 -m &&
        ipvsadm -Ln || return 1
    curl -sS --max-time 10 --retry 5 --retry-connrefused http://10.96.0.1/ | grep -q 'hello from the backend'
}
rr_service() { ipvsadm -A -t 10.96.0.1:80 -s rr && ipvsadm -Ln | grep -q "10.96.0.1:80 rr" && ipvsadm -C; }
cgroup2() { [ "$(stat -fc %T /sys/fs/cgroup/unified)" = cgroup2fs ]; }
no_outside_nic() { ! ls -d /sys/class/net/*/device 2>/dev/null; }
writable() { touch ./.vm-selftest /usr/.vm-selftest /root/x /var/lib/x && rm ./.vm-selftest; }
dotnet_info() {
    local s
    s=$(date +%s%N)
    dotnet --info >/tmp/dotnet-info
    echo "selftest: dotnet --info took $(( ($(date +%s%N) - s) / 1000000 )) ms" >/tmp/dotnet-time
    grep -q '^ Version: *10\.' /tmp/dotnet-info
}

echo "selftest: kernel $(uname -r), $(nproc) CPUs, uptime $(cut -d' ' -f1 /proc/uptime) s"
check "ipvsadm -Ln prints the empty table" empty_table
check "ipvsadm -A -t 10.96.0.1:80 -s rr (no modprobe)" rr_service
check "every IPVS scheduler" schedulers
check "dummy, ipip, ip6tnl, veth, vlan links; nftables masquerade" links
check "sctp loaded" sctp_socket
check "TCP through an IPVS NAT service between namespaces" ipvs_tcp
check "bpffs at /sys/fs/bpf" mountpoint -q /sys/fs/bpf
check "cgroup2 at /sys/fs/cgroup/unified" cgroup2
check "no network device to the outside" no_outside_nic
check "root and cwd writable (thrown away)" writable
check "dotnet --info" dotnet_info
cat /tmp/dotnet-time 2>/dev/null || true
echo "selftest: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
