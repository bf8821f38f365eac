using System.Runtime.InteropServices;

namespace XdpLb.Bpf.Maps;

// Twins of bpf/lib/maps.h (backend_conns, backend_traffic).

/// <summary>struct backend_conns: IPVS's activeconns / inactconns of one backend.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct BackendConns
{
    public uint Active;
    public uint Inactive;
}

/// <summary>struct backend_traffic: IPVS's per-dest conns, packets and bytes (IP layer), per CPU.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct BackendTraffic
{
    public ulong Conns;
    public ulong PacketsIn;
    public ulong PacketsOut;
    public ulong BytesIn;
    public ulong BytesOut;

    public static BackendTraffic operator +(BackendTraffic a, BackendTraffic b) => new()
    {
        Conns = a.Conns + b.Conns,
        PacketsIn = a.PacketsIn + b.PacketsIn,
        PacketsOut = a.PacketsOut + b.PacketsOut,
        BytesIn = a.BytesIn + b.BytesIn,
        BytesOut = a.BytesOut + b.BytesOut,
    };
}
