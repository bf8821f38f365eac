using System.Runtime.InteropServices;

namespace XdpLb.Bpf.Maps;

/// <summary>struct vlan_device (bpf/lib/xdp_maps.h): a VLAN device's parent and VID, by the device's ifindex.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct VlanDeviceValue
{
    public uint ParentIfindex;
    public ushort Vid;
    public ushort Reserved;
}
