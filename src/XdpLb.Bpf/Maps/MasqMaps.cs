using System.Runtime.InteropServices;

namespace XdpLb.Bpf.Maps;

/// <summary>struct masq_port_range (bpf/lib/xdp_maps.h): masq.portRange, host byte order.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct MasqPortRange
{
    public ushort Min;
    public ushort Max;
}
