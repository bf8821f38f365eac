#!/usr/bin/env bash
# The test and demo topology: a client, a load balancer and three backends, each in its
# own network namespace, joined by veth pairs through the lb namespace.
#
#   PREFIXcl  eth0 10.0.1.2/24  fd00:1::2/64   --  lbc 10.0.1.1  fd00:1::1   PREFIXlb
#   PREFIXbN  eth0 10.0.1N.2/24 fd00:1N::2/64  --  lbN 10.0.1N.1 fd00:1N::1  (N = 1..3)
#
# Each backend runs an HTTP server on :8080 that answers with its own name (b1, b2, b3),
# serves /1m.bin (the same random megabyte on each) and /cgi-bin/whoami (the client address
# it sees), and a UDP server on :9000 that answers "bN LENGTH" (tests/netns/build/udp_echo)
# and logs its clients' addresses to /tmp/xdplb-topology-PREFIX/bN/udp-clients.log.
# The client's and backends' veths carry an XDP_PASS program (a frame redirected into a
# veth is only delivered natively when its peer has XDP) and send with TX checksum
# offload off (so an XDP rewrite cannot leave a half-computed checksum): docs/environment.md §2.
#
# usage: topology.sh up PREFIX XDP_PASS_OBJECT
#        topology.sh down PREFIX          (removes everything up made; safe to repeat)
set -euo pipefail

# iproute2 keeps its XDP object state on a bpffs: without this it takes the first bpffs in
# /proc/mounts, which may be a parallel test's private mount that is about to go away
# ("mkdir .../xdp//globals failed"). `ip -n` runs in its own mount namespace, where iproute2
# mounts a bpffs here if none is, so nothing outside it changes.
export TC_BPF_MNT=/sys/fs/bpf

BACKENDS=3

ns() { echo "$PREFIX$1"; }

down() {
    for name in cl lb b1 b2 b3; do
        local n
        n=$(ns "$name")
        if ip netns list | grep -qw "$n"; then
            # Processes first: a netns with live processes outlives `ip netns del`.
            ip netns pids "$n" | xargs -r kill -9 2>/dev/null || true
            ip netns del "$n" 2>/dev/null || true
        fi
    done
    rm -rf "/tmp/xdplb-topology-$PREFIX"
}

up() {
    local pass_obj=$1
    local udp_echo
    udp_echo="$(dirname "$0")/build/udp_echo"
    [ -f "$pass_obj" ] || { echo "topology: XDP_PASS object $pass_obj not found (make build)" >&2; exit 1; }
    [ -x "$udp_echo" ] || { echo "topology: $udp_echo not found (make build)" >&2; exit 1; }
    local lb cl www
    lb=$(ns lb)
    cl=$(ns cl)
    www="/tmp/xdplb-topology-$PREFIX"
    ip netns add "$lb"
    ip netns add "$cl"
    ip -n "$lb" link set lo up
    ip netns exec "$lb" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1

    ip -n "$lb" link add lbc type veth peer name eth0 netns "$cl"
    ip -n "$lb" addr add 10.0.1.1/24 dev lbc
    ip -n "$lb" addr add fd00:1::1/64 dev lbc nodad
    ip -n "$cl" addr add 10.0.1.2/24 dev eth0
    ip -n "$cl" addr add fd00:1::2/64 dev eth0 nodad
    ip -n "$cl" link set lo up
    ip -n "$lb" link set lbc up
    ip -n "$cl" link set eth0 up
    # onlink: the kernel adds an IPv6 prefix route a moment after the link comes up, and
    # a gateway checked against it before then is refused ("No route to host").
    ip -n "$cl" route add default via 10.0.1.1 dev eth0 onlink
    ip -n "$cl" -6 route add default via fd00:1::1 dev eth0 onlink
    ip netns exec "$cl" ethtool -K eth0 tx off >/dev/null
    ip -n "$cl" link set dev eth0 xdpdrv obj "$pass_obj" sec xdp

    # What every backend serves besides its name: a megabyte to check transfers end to end,
    # and the client address it sees (busybox httpd's CGI REMOTE_ADDR).
    mkdir -p "$www"
    head -c 1048576 /dev/urandom > "$www/1m.bin"
    printf '#!/bin/sh\necho "Content-Type: text/plain"\necho\necho "$REMOTE_ADDR"\n' > "$www/whoami"
    chmod +x "$www/whoami"

    for i in $(seq 1 $BACKENDS); do
        local b
        b=$(ns "b$i")
        ip netns add "$b"
        ip -n "$b" link set lo up
        ip -n "$lb" link add "lb$i" type veth peer name eth0 netns "$b"
        ip -n "$lb" addr add "10.0.1$i.1/24" dev "lb$i"
        ip -n "$lb" addr add "fd00:1$i::1/64" dev "lb$i" nodad
        ip -n "$b" addr add "10.0.1$i.2/24" dev eth0
        ip -n "$b" addr add "fd00:1$i::2/64" dev eth0 nodad
        ip -n "$lb" link set "lb$i" up
        ip -n "$b" link set eth0 up
        ip -n "$b" route add default via "10.0.1$i.1" dev eth0 onlink
        ip -n "$b" -6 route add default via "fd00:1$i::1" dev eth0 onlink
        ip netns exec "$b" ethtool -K eth0 tx off >/dev/null
        ip -n "$b" link set dev eth0 xdpdrv obj "$pass_obj" sec xdp
        mkdir -p "$www/b$i/cgi-bin"
        echo "b$i" > "$www/b$i/index.html"
        cp "$www/1m.bin" "$www/b$i/1m.bin"
        cp "$www/whoami" "$www/b$i/cgi-bin/whoami"
        ip netns exec "$b" busybox httpd -p 8080 -h "$www/b$i"
        ip netns exec "$b" "$udp_echo" serve 9000 "b$i" </dev/null >"$www/b$i/udp-clients.log" 2>&1 &
    done
}

[ $# -ge 2 ] || { echo "usage: $0 up PREFIX XDP_PASS_OBJECT | down PREFIX" >&2; exit 2; }
PREFIX=$2
case "$1" in
    up)
        [ $# -eq 3 ] || { echo "usage: $0 up PREFIX XDP_PASS_OBJECT" >&2; exit 2; }
        # Anything left over from an interrupted run with this prefix goes first.
        down
        trap 'down' ERR
        up "$3"
        ;;
    down) down ;;
    *) echo "usage: $0 up PREFIX XDP_PASS_OBJECT | down PREFIX" >&2; exit 2 ;;
esac
