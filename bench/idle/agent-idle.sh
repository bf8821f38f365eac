#!/usr/bin/env bash
# Usage: bench/idle/agent-idle.sh [SERVICES] [BACKENDS] [SECONDS]
# The CPU an idle agent uses (no traffic): SERVICES services of BACKENDS backends each from a
# config file, the default connection table (CONNECTIONS, default 1,000,000), native XDP on
# a veth in a network namespace of its own. Measured from /proc over SECONDS (default 180),
# starting 30 s after the agent is ready; also prints what its periodic full syncs took.
# AGENT=path measures another build (e.g. an earlier release, for a before/after ratio).
set -euo pipefail
cd "$(dirname "$0")/../.."
services=${1:-10000} backends=${2:-10} seconds=${3:-180}
ns=xidle-lb
work=$(mktemp -d /tmp/xdplb-idle.XXXXXX)
pid=""
cleanup() {
    [ -z "$pid" ] || { kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; }
    umount "$work/bpf" 2>/dev/null || true
    ip netns del $ns 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
ip netns del $ns 2>/dev/null || true
ip netns add $ns
ip -n $ns link set lo up
ip -n $ns link add lbv type veth peer name lbp
ip -n $ns addr add 10.0.1.1/24 dev lbv
ip -n $ns link set lbv up
ip -n $ns link set lbp up
dotnet run --project bench/XdpLb.Bench -c Release --no-build -- throughput-config "$work" "$services" "$backends" "${CONNECTIONS:-1000000}" >/dev/null
# A bpffs of its own, mounted from here (`ip netns exec` gives the agent another /sys).
mkdir -p "$work/bpf" "$work/state"
mount -t bpf bpf "$work/bpf"
ip netns exec $ns "${AGENT:-bin/xdplb}" run --config "$work/xdplb.yaml" --interface lbv --dataplane xdp \
    --bpf-pin-dir "$work/bpf" --state-dir "$work/state" --api-socket "$work/api.sock" \
    --metrics-address 127.0.0.1:9469 2>"$work/agent.log" &
pid=$!
for _ in $(seq 1 1800); do
    grep -q 'msg=ready' "$work/agent.log" && break
    kill -0 "$pid" 2>/dev/null || { cat "$work/agent.log" >&2; exit 1; }
    sleep 0.1
done
grep -q 'msg=ready' "$work/agent.log" || { cat "$work/agent.log" >&2; echo "agent-idle: not ready" >&2; exit 1; }
sleep 30   # past the first sync and the JIT's second tier
ticks() { awk '{ print $14 + $15 }' "/proc/$pid/stat"; }
full_syncs() { ip netns exec $ns curl -s 127.0.0.1:9469/metrics | awk '/^xdplb_sync_duration_seconds_(sum|count)\{kind="full"\}/ { printf "%s ", $2 }'; }
read -r sum0 count0 <<<"$(full_syncs)"
t0=$(ticks)
sleep "$seconds"
t1=$(ticks)
read -r sum1 count1 <<<"$(full_syncs)"
awk -v a="$t0" -v b="$t1" -v hz="$(getconf CLK_TCK)" -v s="$seconds" -v sv="$services" -v be="$backends" \
    -v n=$((count1 - count0)) -v d="$(awk -v x="$sum0" -v y="$sum1" 'BEGIN { print y - x }')" 'BEGIN {
    printf "agent idle at %d services x %d backends: %.1f%% of a CPU over %d s; %d full syncs, %.2f s each\n",
        sv, be, 100 * (b - a) / hz / s, s, n, (n > 0 ? d / n : 0) }'
