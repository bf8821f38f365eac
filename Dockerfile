# xdplb agent image. Stage 1 builds the BPF object and publishes the agent (the object is
# embedded in it); stage 2 is the .NET runtime plus libbpf and the tools the agent runs:
# ip, nft and conntrack around the kernel's IPVS (the fallback dataplane); iptables and
# ipset for `xdplb cleanup --kube-proxy`, which removes kube-proxy's chains and sets; kmod
# for the DaemonSet's init container, which loads ip_vs (deploy/03-daemonset.yaml).
# No container engine runs on the project's build machines: `make test` checks that the
# publish command below works; the image itself is built by CI elsewhere.

FROM mcr.microsoft.com/dotnet/sdk:10.0-bookworm-slim AS build
RUN apt-get update \
    && apt-get install -y --no-install-recommends clang llvm libbpf-dev make \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN make -C bpf \
    && dotnet publish src/XdpLb.Agent -c Release -o /out -p:PublishSingleFile=true --self-contained false

FROM mcr.microsoft.com/dotnet/runtime:10.0-bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends libbpf1 iproute2 nftables conntrack iptables ipset kmod \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build /out/xdplb /usr/local/bin/xdplb
ENTRYPOINT ["/usr/local/bin/xdplb"]
CMD ["help"]
