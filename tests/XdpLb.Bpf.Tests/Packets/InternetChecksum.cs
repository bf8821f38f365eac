using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace XdpLb.Bpf.Tests.Packets;

/// <summary>
/// A from-scratch RFC 1071 checksum, independent of the data path's incremental updates,
/// so the tests check the BPF arithmetic against a separate computation.
/// </summary>
public static class InternetChecksum
{
    public static ushort Compute(ReadOnlySpan<byte> data, uint initial = 0)
    {
        ulong sum = initial;
        int i = 0;
        for (; i + 1 < data.Length; i += 2)
            sum += BinaryPrimitives.ReadUInt16BigEndian(data[i..]);
        if (i < data.Length)
            sum += (uint)data[i] << 8;
        while (sum >> 16 != 0)
            sum = (sum & 0xffff) + (sum >> 16);
        return (ushort)~sum;
    }

    /// <summary>The pseudo-header sum (RFC 793 / RFC 8200 §8.1) for a TCP or UDP segment.</summary>
    public static uint PseudoHeaderSum(IPAddress source, IPAddress destination, byte protocol, int l4Length)
    {
        ulong sum = 0;
        foreach (var address in new[] { source, destination })
        {
            byte[] bytes = address.GetAddressBytes();
            for (int i = 0; i < bytes.Length; i += 2)
                sum += BinaryPrimitives.ReadUInt16BigEndian(bytes.AsSpan(i));
        }
        sum += protocol;
        if (source.AddressFamily == AddressFamily.InterNetworkV6)
            sum += (ulong)(l4Length >> 16) + (ulong)(l4Length & 0xffff);
        else
            sum += (ulong)l4Length;
        while (sum >> 16 != 0)
            sum = (sum & 0xffff) + (sum >> 16);
        return (uint)sum;
    }

    /// <summary>True when a region that includes its own checksum field sums to all ones.</summary>
    public static bool Verifies(ReadOnlySpan<byte> data, uint initial = 0) => Compute(data, initial) == 0;
}
