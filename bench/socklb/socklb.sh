#!/usr/bin/env bash
# What socket-level load balancing costs per connection (and per UDP datagram), as ratios
# against baselines measured in the same run, round after round, the cases taking turns.
#
# The topology of tests/netns/topology.sh (client, lb, three backends, each a netns) with the
# real agent (./bin/xdplb run) in the lb netns, its socket hooks on a cgroup of a private
# cgroup2 mount (as the netns tests do), and in each backend netns `connect_loop serve 7000`
# (accepts and closes TCP, echoes UDP), and on 7001 for the direct cases.
# Services: 10.96.0.10:80/tcp and 10.96.0.10:53/udp, rr over the three backends' :7000, plus
# fillers up to SERVICES (service i at 10.100.(i>>8).(i&255):80/tcp). The direct cases use
# another port than the VIP's backends: a direct connect() from the client netns hung after
# many VIP connections through the XDP path, most likely a source port reused while the old
# connection's entry in the XDP connection table still reverse-NATed the backend's answers.
#
# `connect_loop` (connect_loop.c) times, after 200 untimed:
#
#   tcp       N sequential blocking connect()+close (a reset) of TCP sockets: a handshake each
#   udp       N sendto+recvfrom of one byte on one unconnected UDP socket
#   uconnect  N socket()+connect()+close() of UDP sockets: no packet at all, the syscalls
#             and hooks alone (the lb-netns cases only)
#
# in the cases:
#
#   sock-vip      (a) lb netns, in the hooks' cgroup, to the VIP: the socket path
#   sock-direct   (b) lb netns, in the hooks' cgroup, to the backends' :7001: hooks run, no service
#   plain-direct  (c) lb netns, outside the cgroup, to the backends' :7001: no hooks (the baseline)
#   fwd-direct    (e) client netns to the backends' :7001: the lb's stack forwards (its XDP passes)
#
# TCP connections of the direct cases go to the three backends in turn, as rr spreads the
# VIP's; datagrams and UDP sockets all go to backend 1 (an unconnected socket's datagrams to
# the VIP all go to the backend its first one was given).
#   xdp-vip       (d) client netns to the VIP: the XDP path (DNAT and redirect in the lb)
#
# The client and the servers run on CPU 1 (an exchange then wakes its peer on the same CPU,
# not across CPUs, whose wake-up latency would swamp the figures); the agent on CPU 0.
#
# usage: bench/socklb/socklb.sh [SERVICES ...]     (default: 10 10000; one agent per count)
#   env: ROUNDS (31) TCP_N (connections per measurement, 6000) UDP_N (datagrams, 5000)
#        UCONNECT_N (sockets, 20000)
# Needs ./bin/xdplb (make agent), bpf/build/xdp_pass.bpf.o (make -C bpf) and
# tests/netns/build/udp_echo (make tools). Everything it creates (netns, processes, the
# cgroup and bpffs mounts, temp files) is removed on exit, also on failure or Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/../.."

COUNTS=${*:-10 10000}
ROUNDS=${ROUNDS:-31}
TCP_N=${TCP_N:-6000}
UDP_N=${UDP_N:-5000}
UCONNECT_N=${UCONNECT_N:-20000}
CLIENT_CPU=1
AGENT_CPU=0
PORT=7000
DIRECT_PORT=7001
VIP=10.96.0.10
BACKENDS=10.0.11.2,10.0.12.2,10.0.13.2
DIRECT=10.0.11.2
PREFIX=xsock
LB=${PREFIX}lb
CL=${PREFIX}cl
OUT=bench/socklb/build
cases=(sock-vip sock-direct plain-direct fwd-direct xdp-vip)
work=$(mktemp -d /tmp/xdplb-socklb-XXXXXX)
cgroup_root=$work/cgroup/xdplb-socklb
client_cgroup=$cgroup_root/client
agent_pid=""
server_pids=""

stop_agent() {
    if [ -n "$agent_pid" ]; then
        kill "$agent_pid" 2>/dev/null || true
        wait "$agent_pid" 2>/dev/null || true
        agent_pid=""
    fi
}

cleanup() {
    stop_agent
    local pid
    for pid in $server_pids; do
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    tests/netns/topology.sh down $PREFIX
    local dir
    for dir in "$client_cgroup" "$cgroup_root"; do
        if [ -f "$dir/cgroup.procs" ]; then
            while read -r pid; do kill -9 "$pid" 2>/dev/null || true; done <"$dir/cgroup.procs"
            for _ in $(seq 1 50); do rmdir "$dir" 2>/dev/null && break; sleep 0.1; done
        fi
    done
    umount -l "$work/cgroup" 2>/dev/null || true
    umount -l "$work/bpf" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

for f in bin/xdplb bpf/build/xdp_pass.bpf.o tests/netns/build/udp_echo; do
    [ -e "$f" ] || { echo "socklb: $f not found (make -C bpf && make agent && make tools)" >&2; exit 1; }
done
mkdir -p "$OUT"
clang -O2 -Wall -Werror -o "$OUT/connect_loop" bench/socklb/connect_loop.c
loop=$PWD/$OUT/connect_loop

tests/netns/topology.sh up $PREFIX bpf/build/xdp_pass.bpf.o
for i in 1 2 3; do
    for port in $PORT $DIRECT_PORT; do
        ip netns exec ${PREFIX}b$i taskset -c $CLIENT_CPU "$loop" serve $port </dev/null >/dev/null 2>&1 &
        server_pids="$server_pids $!"
    done
done
# A private cgroup2 mount in the host's mount namespace, where the agent under `ip netns
# exec` (which remounts /sys) still finds it; the agent's root and a child for the client,
# as a pod's cgroup is a child of the node's.
mkdir -p "$work/cgroup" "$work/bpf" "$work/state"
mount -t cgroup2 none "$work/cgroup"
mkdir -p "$client_cgroup"
mount -t bpf bpf "$work/bpf"

for port in $PORT $DIRECT_PORT; do
    for _ in $(seq 1 50); do
        ip netns exec $LB "$loop" tcp $BACKENDS $port 3 0 >/dev/null 2>&1 && break
        sleep 0.1
    done
done

write_config() {
    local total=$1 backends i
    backends=$(for i in 1 2 3; do printf '{address: 10.0.1%d.2, port: %d}, ' "$i" $PORT; done)
    backends="[${backends%, }]"
    {
        echo "sync: {minSyncPeriod: 100ms}"
        echo "services:"
        echo "  - {name: web, address: $VIP, port: 80, protocol: tcp, scheduler: rr, backends: $backends}"
        echo "  - {name: dns, address: $VIP, port: 53, protocol: udp, scheduler: rr, backends: $backends}"
        for ((i = 0; i < total - 2; i++)); do
            printf '  - {address: 10.100.%d.%d, port: 80, backends: [{address: %s, port: %d}]}\n' $((i >> 8)) $((i & 255)) $DIRECT $PORT
        done
    } >"$work/xdplb.yaml"
}

start_agent() {
    : >"$work/agent.log"
    ip netns exec $LB taskset -c $AGENT_CPU bin/xdplb run --config "$work/xdplb.yaml" \
        --interface lbc --interface lb1 --interface lb2 --interface lb3 --dataplane xdp \
        --bpf-pin-dir "$work/bpf" --state-dir "$work/state" --api-socket "$work/api.sock" \
        --cgroup-root "$cgroup_root" --detach-on-exit >"$work/agent.log" 2>&1 &
    agent_pid=$!
    for _ in $(seq 1 1200); do
        if grep -q 'msg=ready' "$work/agent.log"; then
            grep -q 'socket-level load balancing attached' "$work/agent.log" && return 0
            break
        fi
        kill -0 "$agent_pid" 2>/dev/null || break
        sleep 0.1
    done
    cat "$work/agent.log" >&2
    echo "socklb: xdplb did not become ready with its socket hooks attached" >&2
    exit 1
}

# One measurement: ns per connection (tcp), exchange (udp) or socket (uconnect).
measure() {
    local case=$1 proto=$2 n vport direct=$DIRECT
    case $proto in
        tcp) n=$TCP_N vport=80 direct=$BACKENDS ;;
        udp) n=$UDP_N vport=53 ;;
        uconnect) n=$UCONNECT_N vport=53 ;;
    esac
    case $case in
        sock-vip) in_cgroup $LB "$loop" "$proto" $VIP $vport "$n" ;;
        sock-direct) in_cgroup $LB "$loop" "$proto" $direct $DIRECT_PORT "$n" ;;
        plain-direct) ip netns exec $LB taskset -c $CLIENT_CPU "$loop" "$proto" $direct $DIRECT_PORT "$n" ;;
        fwd-direct) ip netns exec $CL taskset -c $CLIENT_CPU "$loop" "$proto" $direct $DIRECT_PORT "$n" ;;
        xdp-vip) ip netns exec $CL taskset -c $CLIENT_CPU "$loop" "$proto" $VIP $vport "$n" ;;
    esac
}

in_cgroup() {
    sh -c 'echo $$ > "$0/cgroup.procs" && exec ip netns exec "$@"' "$client_cgroup" \
        "$1" taskset -c $CLIENT_CPU "${@:2}"
}

counter() {
    bin/xdplb stats --json --api-socket "$work/api.sock" |
        sed -n "s/.*\"$1\": *\"\{0,1\}\([0-9]*\).*/\1/p" | head -1
}

median() { sort -n | awk '{ v[NR] = $1 } END { if (NR) print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

results=$work/results
: >"$results"
for total in $COUNTS; do
    write_config "$total"
    start_agent
    connects0=$(counter sock_connect) sends0=$(counter sock_sendmsg)
    for round in $(seq 1 "$ROUNDS"); do
        # The order rotates by one each round, so no case always follows the same one.
        k=$(((round - 1) % ${#cases[@]}))
        order="${cases[*]:k} ${cases[*]:0:k}"
        for case in $order; do
            for proto in tcp udp uconnect; do
                [ $proto = uconnect ] && case $case in fwd-direct | xdp-vip) continue ;; esac
                ns=$(measure "$case" $proto) || { echo "socklb: $case $proto failed" >&2; exit 1; }
                echo "$total $proto $case $ns $round" >>"$results"
            done
        done
    done
    # The socket path must have taken exactly the sock-vip connections and datagrams (warm-ups
    # included): nothing else of this run was in the cgroup or addressed a service from it.
    connects=$(($(counter sock_connect) - connects0)) sends=$(($(counter sock_sendmsg) - sends0))
    expect_connects=$((ROUNDS * (TCP_N + 200 + UCONNECT_N + 200))) expect_sends=$((ROUNDS * (UDP_N + 200)))
    if [ "$connects" -ne "$expect_connects" ] || [ "$sends" -ne "$expect_sends" ]; then
        echo "socklb: the socket hooks translated $connects connects and $sends datagrams, expected $expect_connects and $expect_sends" >&2
        exit 1
    fi
    echo "$total services: the hooks translated $connects connects and $sends datagrams (the sock-vip cases, as expected)"
    stop_agent
done

value() { awk -v t="$1" -v p="$2" -v c="$3" '$1 == t && $2 == p && $3 == c { print $4 }' "$results" | median; }
ns() { [ -n "$1" ] && printf "%.0f" "$1" || echo –; }
# The median over rounds of case A / case B (or A − B) within a round: the two were measured
# at most a few seconds apart, so load that comes and goes on the machine falls on both alike.
per_round() {
    awk -v t="$1" -v p="$2" -v a="$3" -v b="$4" -v op="$5" '$1 == t && $2 == p && $3 == a { x[$5] = $4 }
        $1 == t && $2 == p && $3 == b { y[$5] = $4 }
        END { for (r in x) if (r in y) print op == "/" ? x[r] / y[r] : x[r] - y[r] }' "$results" | median
}
ratio() { per_round "$@" / | awk '{ printf "%.3f", $1 } END { if (!NR) printf "–" }'; }
difference() { per_round "$@" - | awk '{ printf "%.0f", $1 } END { if (!NR) printf "–" }'; }

echo
echo "Median of $ROUNDS rounds, ns per TCP connection (connect + close, $TCP_N a round), per UDP exchange"
echo "(sendto + recvfrom, $UDP_N a round) or per UDP socket (socket + connect + close, no packet, $UCONNECT_N a round);"
echo "ratios and a − c: the median of the rounds' ratios and differences:"
echo
echo "| services | proto | (c) no hooks → backend | (b) hooks → backend | (a) hooks → VIP | (e) client netns → backend | (d) client netns → VIP (XDP) | b/c | a/c | a − c ns | d/e | d/c |"
echo "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
for total in $COUNTS; do
    for proto in tcp udp uconnect; do
        a=$(value "$total" $proto sock-vip) b=$(value "$total" $proto sock-direct) c=$(value "$total" $proto plain-direct)
        d=$(value "$total" $proto xdp-vip) e=$(value "$total" $proto fwd-direct)
        echo "| $total | $proto | $(ns "$c") | $(ns "$b") | $(ns "$a") | $(ns "$e") | $(ns "$d") | $(ratio "$total" $proto sock-direct plain-direct) |" \
            "$(ratio "$total" $proto sock-vip plain-direct) | $(difference "$total" $proto sock-vip plain-direct) |" \
            "$(ratio "$total" $proto xdp-vip fwd-direct) | $(ratio "$total" $proto xdp-vip plain-direct) |"
    done
done
