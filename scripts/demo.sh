#!/usr/bin/env bash
# make demo: a client, xdplb and three backends in network namespaces; 30 HTTP requests
# to the service address go through xdplb's XDP program, then 6 from a process on the node
# through its socket hooks; shows who answered. Everything it creates is removed on exit,
# also on failure or Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."

PREFIX=xdemo
REQUESTS=${REQUESTS:-30}
workdir=$(mktemp -d)
agent_pid=""

cleanup() {
    [ -n "$agent_pid" ] && kill "$agent_pid" 2>/dev/null && wait "$agent_pid" 2>/dev/null || true
    tests/netns/topology.sh down "$PREFIX"
    umount -l "$workdir/bpf" 2>/dev/null || true
    rmdir "$cgroup/node-process" "$cgroup" 2>/dev/null || true
    umount -l "$workdir/cgroup" 2>/dev/null || true
    rm -rf "$workdir"
}
trap cleanup EXIT

echo "== topology: client ${PREFIX}cl -> xdplb ${PREFIX}lb -> backends ${PREFIX}b1..b3 (network namespaces)"
tests/netns/topology.sh up "$PREFIX" bpf/build/xdp_pass.bpf.o

cat > "$workdir/xdplb.yaml" <<'YAML'
services:
  - name: web
    address: 10.96.0.10
    port: 80
    protocol: tcp
    scheduler: rr
    backends:
      - {address: 10.0.11.2, port: 8080}   # b1
      - {address: 10.0.12.2, port: 8080}   # b2
      - {address: 10.0.13.2, port: 8080}   # b3
YAML
echo "== config ($workdir/xdplb.yaml):"
sed 's/^/   /' "$workdir/xdplb.yaml"

# Pins live on a bpffs of the demo's own, mounted here (outside the lb namespace's /sys),
# so that they would outlive the agent as on a node; it goes away with the demo.
mkdir -p "$workdir/bpf" "$workdir/state"
mount -t bpf bpf "$workdir/bpf"
# The socket hooks attach to a cgroup of the demo's own (not the machine's root, which
# would reach every process here), mounted where the agent under `ip netns exec` sees it.
mkdir -p "$workdir/cgroup"
mount -t cgroup2 none "$workdir/cgroup"
cgroup="$workdir/cgroup/xdplb-demo-$$"
mkdir -p "$cgroup/node-process"
echo "== starting: xdplb run --config xdplb.yaml --interface lbc --interface lb1 --interface lb2 --interface lb3 --bpf-pin-dir ... --state-dir ... --api-socket ... --cgroup-root ..."
ip netns exec "${PREFIX}lb" bin/xdplb run --config "$workdir/xdplb.yaml" \
    --interface lbc --interface lb1 --interface lb2 --interface lb3 \
    --bpf-pin-dir "$workdir/bpf" --state-dir "$workdir/state" --api-socket "$workdir/xdplb.sock" \
    --cgroup-root "$cgroup" 2>"$workdir/agent.log" &
agent_pid=$!
for _ in $(seq 1 300); do
    grep -q 'msg=ready' "$workdir/agent.log" && break
    kill -0 "$agent_pid" 2>/dev/null || { cat "$workdir/agent.log"; echo "demo: xdplb exited" >&2; exit 1; }
    sleep 0.1
done
grep -q 'msg=ready' "$workdir/agent.log" || { cat "$workdir/agent.log"; echo "demo: xdplb did not become ready" >&2; exit 1; }
sed 's/^/   /' "$workdir/agent.log"

echo "== $REQUESTS requests from the client to http://10.96.0.10/ (each a new TCP connection):"
declare -A tally=()
answers=()
for i in $(seq 1 "$REQUESTS"); do
    who=$(ip netns exec "${PREFIX}cl" curl -sS --max-time 5 -H 'Connection: close' http://10.96.0.10/)
    answers+=("$who")
    tally[$who]=$(( ${tally[$who]:-0} + 1 ))
done
echo "   answered, in order: ${answers[*]}"
echo "== per backend:"
for b in b1 b2 b3; do
    printf '   %s (10.0.1%s.2:8080)  %3d requests\n' "$b" "${b#b}" "${tally[$b]:-0}"
done
echo "== 6 requests from a process on the node (the lb namespace, in a child of --cgroup-root):"
echo "   the socket hooks give each connect() a backend, continuing the same rr sequence"
node_answers=()
for i in $(seq 1 6); do
    node_answers+=("$(sh -c "echo \$\$ > '$cgroup/node-process/cgroup.procs' && exec ip netns exec '${PREFIX}lb' curl -sS --max-time 5 http://10.96.0.10/")")
done
echo "   answered, in order: ${node_answers[*]}"
echo "== xdplb list --stats (ipvsadm's table; then what the socket hooks translated):"
bin/xdplb list --stats --api-socket "$workdir/xdplb.sock" | sed 's/^/   /'
echo "== stopping xdplb (SIGTERM): it logs its per-backend and data path counters (XDP stays attached, maps pinned)"
kill "$agent_pid"
wait "$agent_pid" || true
agent_pid=""
echo "   per backend, as counted by the XDP program (packets and IP-layer bytes, each way):"
printf '   %-16s %6s %7s %8s %10s %11s %9s %10s\n' backend conns active inactive packets_in packets_out bytes_in bytes_out
grep 'msg="backend stats"' "$workdir/agent.log" | while read -r line; do
    field() { sed -E "s/.* $1=([^ ]+).*/\1/" <<<"$line"; }
    printf '   %-16s %6s %7s %8s %10s %11s %9s %10s\n' "$(field backend)" "$(field conns)" "$(field active)" \
        "$(field inactive)" "$(field packets_in)" "$(field packets_out)" "$(field bytes_in)" "$(field bytes_out)"
done
echo "   data path outcomes:"
grep 'msg="data path counters"' "$workdir/agent.log" | sed -E 's/.*counters" //' | tr ' ' '\n' | sed 's/=/ /' |
    while read -r name value; do printf '   %-22s %8s\n' "$name" "$value"; done
