using System.Buffers.Binary;
using System.Net.Sockets;

namespace XdpLb.Bpf.Maps;

/// <summary>Conversions for the fields the data path keeps in network byte order.</summary>
public static class NetworkOrder
{
    public static ushort Port(ushort hostOrder) =>
        BitConverter.IsLittleEndian ? BinaryPrimitives.ReverseEndianness(hostOrder) : hostOrder;

    public static ushort HostPort(ushort networkOrder) => Port(networkOrder);

    /// <summary>The AF_* value the data path stores for a .NET address family.</summary>
    public static byte Family(AddressFamily family) => family switch
    {
        AddressFamily.InterNetwork => 2,
        AddressFamily.InterNetworkV6 => 10,
        _ => throw new ArgumentException($"unsupported address family {family}", nameof(family)),
    };
}
