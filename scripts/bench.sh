#!/usr/bin/env bash
# make bench: benchmarks that are too long or too noisy for make test (BPF fast path,
# control plane, the Kubernetes source, throughput through network namespaces, the idle
# agent, the socket hooks per connection). Results go to bench/README.md by hand, with the command that
# produced them.
set -euo pipefail
cd "$(dirname "$0")/.."
# The control-plane bench compares with iptables-restore of kube-proxy's rule set.
command -v iptables-legacy-restore >/dev/null || PATH="$PATH:/usr/sbin" command -v iptables-legacy-restore >/dev/null || {
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq iptables >/dev/null; }
echo "== BPF fast path (BPF_PROG_TEST_RUN)"
dotnet run --project bench/XdpLb.Bench -c Release --no-build -- fast-path bpf/build/xdp_pass.bpf.o "${BENCH_REPEAT:-1000000}" "${BENCH_NEW_CONNECTIONS:-20000}"
echo
echo "== control plane"
dotnet run --project bench/XdpLb.Bench -c Release --no-build -- control-plane "$PWD/bin/xdplb" "${BENCH_SERVICES:-10000}" "${BENCH_BACKENDS:-10}"
echo
echo "== Kubernetes source (fake API server) beside the config file"
# Full sync and one-EndpointSlice change latency of `xdplb run --kubernetes`, each agent in a netns of its own.
dotnet run --project bench/XdpLb.Bench -c Release --no-build -- kubernetes "$PWD/bin/xdplb" "${BENCH_SERVICES:-10000}" "${BENCH_BACKENDS:-10}"
echo
echo "== throughput (veth, native XDP)"
# Packets per second through an lb netns: xdplb, kube-proxy's iptables and nftables rule sets,
# and a minimal XDP forwarder, for the same services (bench/throughput/throughput.sh).
bench/throughput/throughput.sh "${BENCH_SERVICES:-10000}" "${BENCH_BACKENDS:-10}"
echo
echo "== the idle agent"
# The agent's own CPU with no traffic, at the bench's service count and at 100 services
# (bench/idle/agent-idle.sh): what the rate sampler, the sync loop and the sweeper cost.
bench/idle/agent-idle.sh "${BENCH_SERVICES:-10000}" "${BENCH_BACKENDS:-10}" 120
bench/idle/agent-idle.sh 100 2 60
echo
echo "== socket-level load balancing"
# What the cgroup socket hooks add per connection and per datagram for a process on the node
# (or in a pod) reaching a service, against a process outside their cgroup, in the same run
# (bench/socklb/socklb.sh).
bench/socklb/socklb.sh 10 "${BENCH_SERVICES:-10000}"
