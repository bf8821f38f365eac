#!/usr/bin/env bash
# Installs every Debian package the build, tests and demo need, and mounts bpffs.
# Idempotent: apt runs only when something is missing.
set -euo pipefail

PACKAGES=(clang llvm libbpf-dev bpftool xdp-tools iproute2 ethtool iputils-ping curl
          busybox-static make
          conntrack libcap2-bin socat # the IPVS dataplane (conntrack -D); capsh and SCTP clients in tests
          iptables ipset # xdplb cleanup --kube-proxy removes kube-proxy's chains and sets with them
          qemu-system-x86 cpio kmod xz-utils ipvsadm nftables) # the last line: the IPVS test VM (tests/vm)

[ "$(id -u)" -eq 0 ] || { echo "setup: run as root (it installs packages and mounts bpffs)" >&2; exit 1; }

missing=()
for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# node and npm for the independent gRPC client of the tests (tests/grpc-js-client). Checked
# as commands: a node from another source (NodeSource's nodejs, which carries npm) will do,
# and Debian's npm package would conflict with it.
command -v npm >/dev/null || missing+=(nodejs npm)
if [ ${#missing[@]} -gt 0 ]; then
    echo "setup: installing ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

command -v dotnet >/dev/null || { echo "setup: the .NET SDK 10 (dotnet) is not on PATH; install it first" >&2; exit 1; }

if ! mountpoint -q /sys/fs/bpf; then
    mount -t bpf bpf /sys/fs/bpf
fi
echo "setup: ready"
