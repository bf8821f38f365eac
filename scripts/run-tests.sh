#!/usr/bin/env bash
# Runs the test layers (all, or those named) one after the other and ends with one
# summary line, "N passed, N failed, N skipped". Exit status: non-zero if any failed.
set -uo pipefail
configuration=${1:-Release}
shift || true
layers=("$@")
[ ${#layers[@]} -gt 0 ] || layers=(XdpLb.Core.Tests XdpLb.Agent.Tests XdpLb.Kubernetes.Tests XdpLb.Ipvs.Tests XdpLb.Bpf.Tests XdpLb.Integration.Tests XdpLb.Vm.Tests)

passed=0 failed=0 skipped=0 status=0
for layer in "${layers[@]}"; do
    echo "== $layer"
    log=$(mktemp)
    if [ "$layer" = XdpLb.Vm.Tests ]; then
        # Real IPVS: these run inside the qemu VM of tests/vm (this kernel has no IP_VS).
        tests/vm/run.sh --timeout 1500 -- dotnet test "tests/$layer/bin/$configuration/net10.0/$layer.dll" \
            --nologo --results-directory /tmp/xdplb-vm-results 2>&1 | tee "$log"
        rc=${PIPESTATUS[0]}
    else
        dotnet test "tests/$layer" -c "$configuration" --no-build --nologo 2>&1 | tee "$log"
        rc=${PIPESTATUS[0]}
    fi
    summary=$(grep -E '(Passed|Failed)!? +- +Failed: ' "$log" | tail -1)
    rm -f "$log"
    if [ -z "$summary" ]; then
        echo "$layer: no test summary (exit $rc)"
        failed=$((failed + 1))
        status=1
        continue
    fi
    f=$(sed -E 's/.*Failed: +([0-9]+).*/\1/' <<<"$summary")
    p=$(sed -E 's/.*Passed: +([0-9]+).*/\1/' <<<"$summary")
    s=$(sed -E 's/.*Skipped: +([0-9]+).*/\1/' <<<"$summary")
    passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + s))
    [ "$rc" -eq 0 ] || status=1
    [ "$s" -eq 0 ] || { echo "$layer: $s test(s) skipped; no layer may skip"; status=1; }
done
echo "tests: $passed passed, $failed failed, $skipped skipped"
exit $status
