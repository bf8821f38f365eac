#!/usr/bin/env bash
# Throughput through a load-balancer netns, in packets per second arriving at the backend.
# One topology per case, all set up at once, measured in turn round after round (so that
# load from elsewhere on this shared machine falls on every case alike):
#
#   xbench-CASE-cl  eth0 10.0.1.2 -- lbc 10.0.1.1  xbench-CASE-lb  lb1 10.0.11.1 -- eth0 10.0.11.2  xbench-CASE-be
#   (gen, AF_PACKET)                (the case under test)                         (sink: XDP counts, drops)
#
# SERVICES UDP services (service i at 10.100.(i>>8).(i&255):80, BACKENDS backends each at
# 10.(200+b).(i>>8).(i&255):8080, routed in the lb via 10.0.11.2), the same in every case:
#   minimal   fwd.bpf.o on lbc: FIB lookup + MAC rewrite + redirect, no NAT (the ceiling);
#             gen addresses the backends directly (10.200.0.0 + j:8080)
#   xdplb     the agent (./bin/xdplb), native XDP on lbc and lb1
#   iptables  kube-proxy's iptables-mode nat table (iptables-legacy-restore), the kernel forwards
#   nftables  kube-proxy's nftables-mode shape (nft -f), the kernel forwards
# and two kinds of traffic from gen: `new` (every packet a new 5-tuple: 65,536 source
# addresses x 64,512 source ports, destinations spread over all services) and `established`
# (one 5-tuple, to the first service).
#
# CPUs (the machine has 2): gen runs on CPU 0; the lb's receive processing on CPU 1 (XDP
# cases: lbc's NAPI in threaded mode, its kthread pinned to CPU 1; stack cases: RPS of lbc to
# CPU 1). The sink's NAPI runs where the lb hands it the frame (CPU 1). So CPU 1 does the
# lb's work and nothing else of ours, and gen reports how busy it was: the lb's CPU time per
# packet. The agent is pinned to CPU 0 beside gen, which runs at nice -20 so that the
# agent's once-a-second connection sweep cannot starve it; the sweep's own cost is measured
# after the new-flow rounds, with no traffic.
#
# The machine is shared: before each measurement it waits (up to 1 min) for CPU 1 to be
# idle, and a measurement during which other processes used CPU is taken again (up to 3 times).
#
# usage: bench/throughput/throughput.sh [SERVICES] [BACKENDS]
#   env: ROUNDS (5) DURATION (seconds per measurement, 5) CASES ("minimal xdplb iptables nftables")
# Needs ./bin/xdplb and bench/XdpLb.Bench built (make build). Everything it creates (netns,
# processes, bpffs mount, temp files) is removed on exit, also on failure or Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/../.."

SERVICES=${1:-10000}
BACKENDS=${2:-10}
ROUNDS=${ROUNDS:-5}
DURATION=${DURATION:-5}
CASES=${CASES:-minimal xdplb iptables nftables}
WARMUP=1
GEN_CPU=0
LB_CPU=1
SRC=10.1.0.0/65536
OUT=bench/throughput/build
work=$(mktemp -d /tmp/xbench-XXXXXX)
agent_pid=""

stop_agent() {
    if [ -n "$agent_pid" ]; then
        kill "$agent_pid" 2>/dev/null || true
        wait "$agent_pid" 2>/dev/null || true
        agent_pid=""
    fi
}

down() {
    local c n
    for c in minimal xdplb iptables nftables; do
        for n in cl lb be; do
            n=xbench-$c-$n
            if ip netns list | grep -qw "$n"; then
                ip netns pids "$n" | xargs -r kill -9 2>/dev/null || true
                ip netns del "$n" 2>/dev/null || true
            fi
        done
    done
}

cleanup() {
    stop_agent
    down
    umount -l "$work/bpf" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

for tool in clang bpftool iptables-legacy-restore nft ethtool taskset curl; do
    PATH="$PATH:/usr/sbin:/sbin" command -v "$tool" >/dev/null || {
        echo "throughput: installing iptables nftables ethtool bpftool clang libbpf-dev util-linux curl"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
            iptables nftables ethtool bpftool clang libbpf-dev util-linux curl >/dev/null
        break
    }
done
PATH="$PATH:/usr/sbin:/sbin"
[ -x bin/xdplb ] || { echo "throughput: ./bin/xdplb not found (make build)" >&2; exit 1; }

mkdir -p "$OUT"
for p in sink fwd; do
    clang -O2 -g -target bpf -mcpu=v3 -Wall -Werror -I"/usr/include/$(uname -m)-linux-gnu" \
        -c "bench/throughput/$p.bpf.c" -o "$OUT/$p.bpf.o"
done
clang -O2 -Wall -Werror -o "$OUT/gen" bench/throughput/gen.c -lbpf
# The same services for every case. The new-flow rounds add one connection per packet, none
# ever answered: xdplb's table (the default 1,000,000 connections, preallocated) fills within
# the first round, and from then on every new flow reclaims the oldest unanswered one, as
# nf_conntrack's early drop does for the kernel cases. CONNECTIONS=5000000 (10,000,000
# entries, about 2.4 GB) measures the idle agent with a table ten times larger.
CONNECTIONS=${CONNECTIONS:-1000000}
dotnet run --project bench/XdpLb.Bench -c Release --no-build -- throughput-config "$work" "$SERVICES" "$BACKENDS" "$CONNECTIONS"

in_ns() { ip netns exec "$@"; }
mac_of() { in_ns "$1" cat "/sys/class/net/$2/address"; }

declare -A sink_map offset
up() {
    local c=$1 cl=xbench-$1-cl lb=xbench-$1-lb be=xbench-$1-be n prog
    for n in $cl $lb $be; do
        ip netns add "$n"
        ip -n "$n" link set lo up
    done
    ip -n $lb link add lbc type veth peer name eth0 netns $cl
    ip -n $lb link add lb1 type veth peer name eth0 netns $be
    ip -n $cl addr add 10.0.1.2/24 dev eth0
    ip -n $lb addr add 10.0.1.1/24 dev lbc
    ip -n $lb addr add 10.0.11.1/24 dev lb1
    ip -n $be addr add 10.0.11.2/24 dev eth0
    for n in "$cl eth0" "$lb lbc" "$lb lb1" "$be eth0"; do
        set -- $n
        ip -n "$1" link set "$2" up
        # Checksum offload off (docs/environment.md §2.2); gen computes its checksums anyway.
        in_ns "$1" ethtool -K "$2" tx off >/dev/null
    done
    in_ns $lb sysctl -qw net.ipv4.ip_forward=1
    # Clients (gen's sources) behind the client's veth, backends behind the backend's:
    # two neighbours, both permanent, so no ARP is ever in the way.
    ip -n $lb route add 10.1.0.0/16 via 10.0.1.2
    ip -n $lb route add 10.192.0.0/10 via 10.0.11.2
    ip -n $lb neigh replace 10.0.1.2 lladdr "$(mac_of $cl eth0)" dev lbc nud permanent
    ip -n $lb neigh replace 10.0.11.2 lladdr "$(mac_of $be eth0)" dev lb1 nud permanent
    # The sink: also the XDP program a frame redirected into lb1 needs at its peer (docs/environment.md §2.1).
    ip -n $be link set dev eth0 xdpdrv obj "$OUT/sink.bpf.o" sec xdp
    prog=$(ip -n $be -d link show dev eth0 | sed -n 's/.*prog\/xdp id \([0-9]*\).*/\1/p' | head -1)
    sink_map[$c]=$(bpftool prog show id "$prog" | sed -n 's/.*map_ids \([0-9]*\).*/\1/p')
    [ -n "${sink_map[$c]}" ] || { echo "throughput: sink map not found" >&2; exit 1; }
    offset[$c]=0
}

# lbc's receive work on LB_CPU. XDP runs in the veth's NAPI, which a sender schedules on its
# own CPU: in threaded mode it gets a kthread, pinned here. Without XDP the stack takes the
# frame from the backlog, which RPS moves.
lb_cpu_xdp() {
    local before after pid
    before=$(pgrep -d' ' '^napi/lbc-' || true)
    in_ns "$1" sh -c 'echo 1 > /sys/class/net/lbc/threaded'
    after=$(pgrep '^napi/lbc-' || true)
    for pid in $after; do
        case " $before " in *" $pid "*) ;; *) taskset -pc $LB_CPU "$pid" >/dev/null ;; esac
    done
}
lb_cpu_stack() {
    in_ns "$1" sh -c "printf %x $((1 << LB_CPU)) > /sys/class/net/lbc/queues/rx-0/rps_cpus"
}

start_agent() {
    # A bpffs of its own, mounted from here (`ip netns exec` gives the agent another /sys).
    mkdir -p "$work/bpf" "$work/state"
    mount -t bpf bpf "$work/bpf"
    ip netns exec "$1" taskset -c $GEN_CPU bin/xdplb run --config "$work/xdplb.yaml" --interface lbc --interface lb1 \
        --dataplane xdp --bpf-pin-dir "$work/bpf" --state-dir "$work/state" --api-socket "$work/api.sock" \
        --detach-on-exit 2>"$work/agent.log" &
    agent_pid=$!
    for _ in $(seq 1 1200); do
        grep -q 'msg=ready' "$work/agent.log" && return 0
        kill -0 "$agent_pid" 2>/dev/null || break
        sleep 0.1
    done
    cat "$work/agent.log" >&2
    echo "throughput: xdplb did not become ready" >&2
    exit 1
}

setup_case() {
    local lb=xbench-$1-lb
    case "$1" in
        minimal)
            ip -n $lb link set dev lbc xdpdrv obj "$OUT/fwd.bpf.o" sec xdp
            lb_cpu_xdp $lb ;;
        xdplb)
            start_agent $lb
            lb_cpu_xdp $lb ;;
        iptables)
            in_ns $lb iptables-legacy-restore <"$work/iptables.rules"
            lb_cpu_stack $lb ;;
        nftables)
            in_ns $lb nft -f "$work/nft.rules"
            lb_cpu_stack $lb ;;
    esac
}

# What each case dropped or refused, for the record.
case_notes() {
    local lb=xbench-$1-lb
    case "$1" in
        xdplb)
            # Logged by the agent as it stops (stopped before this is called).
            grep -E 'msg="(data path counters|connection table events)"' "$work/agent.log" | sed -E 's/.*(counters|events)" //' | paste -sd' ' ;;
        iptables | nftables)
            # Per-CPU rows of hex counters (columns: entries ... insert_failed drop early_drop).
            local row entries=0 failed=0 drop=0 early=0
            while read -r -a row; do
                entries=$((16#${row[0]})) failed=$((failed + 16#${row[9]}))
                drop=$((drop + 16#${row[10]})) early=$((early + 16#${row[11]}))
            done < <(in_ns $lb tail -n +2 /proc/net/stat/nf_conntrack)
            echo "conntrack entries=$entries insert_failed=$failed drop=$drop early_drop=$early" ;;
    esac
}

median() { sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
field() { sed -E "s/.*( |^)$1=([^ ]+).*/\2/" <<<"$2"; }
agent_ticks() { [ -n "$agent_pid" ] && awk '{ print $14 + $15 }' "/proc/$agent_pid/stat" || echo 0; }

# The lb CPU's busy share over a second, in percent.
cpu_busy() {
    local a b
    a=$(awk -v c="cpu$LB_CPU" '$1 == c { print $2 + $3 + $4 + $7 + $8 + $9, $5 + $6 }' /proc/stat)
    sleep 1
    b=$(awk -v c="cpu$LB_CPU" '$1 == c { print $2 + $3 + $4 + $7 + $8 + $9, $5 + $6 }' /proc/stat)
    awk -v a="$a" -v b="$b" 'BEGIN { split(a, x, " "); split(b, y, " "); t = y[1] - x[1] + y[2] - x[2]; print t ? int(100 * (y[1] - x[1]) / t) : 0 }'
}

# Before a measurement the lb CPU should be idle (nothing of ours runs there between
# measurements): wait up to a minute for others' work to end.
wait_quiet() {
    local i busy
    for i in $(seq 1 30); do
        busy=$(cpu_busy)
        [ "$busy" -le 5 ] && return 0
        [ "$i" -eq 1 ] && echo "   (CPU $LB_CPU is ${busy}% busy with another process: waiting up to 1 min)"
        sleep 1
    done
    echo "   (CPU $LB_CPU still ${busy}% busy: measuring anyway)"
}

# CPU time (ticks) used by processes not of this run (another process group), kernel threads
# aside; the time of processes that ended is in their parent's cutime/cstime.
foreign_ticks() {
    cat /proc/[0-9]*/stat 2>/dev/null | sed 's/^[0-9]* (.*) //' |
        awk -v me="$PGID" '$3 != me && $2 != 2 && $2 != 0 { t += $12 + $13 + $14 + $15 } END { print t + 0 }'
}
PGID=$(ps -o pgid= $$ | tr -d ' ')

# One measurement of case $1 into $line, with foreign= appended: the share of a CPU other
# processes took meanwhile. Taken again (up to 3 times) when that was over 5%. gen runs at
# nice -20 on its CPU: the agent, which shares it, must not starve it.
measure() {
    local c=$1 mode=$2 try f0 foreign range port dst
    if [ "$c" = minimal ]; then dst=10.200.0.0 port=8080; else dst=10.100.0.0 port=80; fi
    if [ "$mode" = new ]; then range="$dst/$SERVICES"; else range="$dst/1"; fi
    for try in 1 2 3; do
        wait_quiet
        f0=$(foreign_ticks)
        line=$(nice -n -20 taskset -c $GEN_CPU ip netns exec xbench-$c-cl "$OUT/gen" -i eth0 \
            -s "$(mac_of xbench-$c-cl eth0)" -d "$(mac_of xbench-$c-lb lbc)" -m "$mode" -S $SRC -D "$range" -p "$port" \
            -t "$DURATION" -w $WARMUP -o "${offset[$c]}" -c "${sink_map[$c]}" -C $LB_CPU)
        foreign=$(awk -v a="$f0" -v b="$(foreign_ticks)" -v hz="$(getconf CLK_TCK)" -v t=$((DURATION + WARMUP)) \
            'BEGIN { printf "%.2f", (b - a) / hz / t }')
        line="$line foreign=$foreign"
        # New flows continue where the last run stopped: no 5-tuple is ever sent twice.
        [ "$mode" = new ] && offset[$c]=$(field next "$line")
        awk -v f="$foreign" 'BEGIN { exit !(f <= 0.05) }' && break
        echo "   (other processes took $foreign of a CPU meanwhile; again)"
    done
}

echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
for c in $CASES; do
    echo "== $c: setting up ($SERVICES services x $BACKENDS backends)"
    up $c
    setup_case $c
done

declare -A result
for mode in established new; do
    for c in $CASES; do : >"$work/$c.$mode"; done
    for r in $(seq 1 "$ROUNDS"); do
        for c in $CASES; do
            measure $c $mode
            echo "   $c $mode round $r: $line"
            echo "$line" >>"$work/$c.$mode"
        done
    done
    for c in $CASES; do
        for f in recv_pps sent_pps refused_pps lb_busy; do
            result[$c.$mode.$f]=$(while read -r l; do field $f "$l"; done <"$work/$c.$mode" | median)
        done
        # The lb CPU's time per packet: what the case costs, whether or not it was the bottleneck.
        result[$c.$mode.ns]=$(while read -r l; do
            awk -v b="$(field lb_busy "$l")" -v p="$(field recv_pps "$l")" 'BEGIN { printf "%.0f\n", (p > 0 ? b * 1e9 / p : 0) }'
        done <"$work/$c.$mode" | median)
    done
done

case " $CASES " in *" xdplb "*)
    # The agent's cost with the connections the new-flow rounds left and no traffic: the
    # kernel's sweeper, run by the agent over a bounded slice of the table each second, and
    # the agent's own idle loop. 30 s: a full pass over 5,000,000 connections takes 20.
    connections=$(in_ns xbench-xdplb-lb curl -s 127.0.0.1:9469/metrics | sed -n 's/^xdplb_conntrack_connections //p')
    ticks0=$(agent_ticks)
    sleep 30
    agent_idle=$(awk -v a="$ticks0" -v b="$(agent_ticks)" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.1f", 100 * (b - a) / hz / 30 }')
    echo "== xdplb: with ${connections:-?} connections (twice as many entries) and no traffic, the agent used ${agent_idle}% of a CPU" ;;
esac
stop_agent
for c in $CASES; do
    echo "== $c: $(case_notes $c)"
done
down
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"

ratio() { awk -v a="${result[$1]:-0}" -v b="${result[$2]:-0}" 'BEGIN { if (a > 0 && b > 0) printf "%.2fx", a / b; else printf "-" }'; }
echo
echo "throughput, $SERVICES services x $BACKENDS backends, 60-byte UDP frames: packets/s arriving at the backend"
echo "(medians of $ROUNDS rounds of $DURATION s); lb CPU: how busy CPU $LB_CPU was, and its time per packet delivered;"
echo "refused/s: frames the lb's veth refused because the lb had not caught up (> 0: the lb, not gen, was the limit)"
echo
echo "| case | new flows pps | lb CPU busy | ns/packet | refused/s | established pps | lb CPU busy | ns/packet | refused/s |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
for c in $CASES; do
    printf '| %s |' "$c"
    for mode in new established; do
        printf ' %s | %.0f%% | %s | %s |' "${result[$c.$mode.recv_pps]}" "$(awk -v b="${result[$c.$mode.lb_busy]}" 'BEGIN { print b * 100 }')" \
            "${result[$c.$mode.ns]}" "${result[$c.$mode.refused_pps]}"
    done
    echo
done
case " $CASES " in *" xdplb "*)
    echo
    echo "| xdplb against | new flows pps | new flows, lb CPU per packet | established pps | established, lb CPU per packet |"
    echo "|---|---:|---:|---:|---:|"
    for other in iptables nftables minimal; do
        case " $CASES " in *" $other "*) ;; *) continue ;; esac
        # pps: xdplb / other (higher is better for xdplb); CPU per packet: other / xdplb (likewise).
        echo "| $other | $(ratio xdplb.new.recv_pps $other.new.recv_pps) | $(ratio $other.new.ns xdplb.new.ns) |" \
             "$(ratio xdplb.established.recv_pps $other.established.recv_pps) | $(ratio $other.established.ns xdplb.established.ns) |"
    done ;;
esac
