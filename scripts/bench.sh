#!/usr/bin/env bash
# make bench: benchmarks that are too long or too noisy for make test. Results go to
# bench/README.md by hand, with the command that produced them.
set -euo pipefail
cd "$(dirname "$0")/.."
echo "== BPF fast path (BPF_PROG_TEST_RUN)"
dotnet run --project bench/XdpLb.Bench -c Release --no-build -- bpf/build/xdp_pass.bpf.o "${BENCH_REPEAT:-1000000}" "${BENCH_NEW_CONNECTIONS:-20000}"
