using System.Runtime.InteropServices;

namespace XdpLb.Bpf.Maps;

// Twins of bpf/lib/sock_maps.h.

/// <summary>struct sock_backend_traffic: socket-level translations of one backend, per CPU.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct SockBackendTraffic
{
    /// <summary>connect() calls given this backend (TCP, connected UDP).</summary>
    public ulong Connects;
    /// <summary>Unconnected UDP datagrams sent to it (sendmsg).</summary>
    public ulong Datagrams;

    public static SockBackendTraffic operator +(SockBackendTraffic a, SockBackendTraffic b) =>
        new() { Connects = a.Connects + b.Connects, Datagrams = a.Datagrams + b.Datagrams };
}

/// <summary>enum sock_counter (names without SOCK_CNT_, checked through BTF at load).</summary>
public enum SockCounter : uint
{
    Connect,
    Sendmsg,
    Reverse,
    NoBackend,
    SkippedMode,
    Max,
}
