using System.Buffers.Binary;
using System.Net;

namespace XdpLb.Bpf.Tests.Packets;

/// <summary>
/// An IPIP frame as IPVS's tunnel transmit builds it (RFC 2003): the inner frame's IP packet
/// under an outer IPv4 header with the inner's TOS and DF, built here from scratch.
/// </summary>
public static class TunnelFrame
{
    public static byte[] Ipip(byte[] inner, IPAddress source, IPAddress destination, byte ttl, byte[] sourceMac, byte[] destMac)
    {
        var innerIp = inner.AsSpan(14);
        var frame = new byte[inner.Length + 20];
        destMac.CopyTo(frame, 0);
        sourceMac.CopyTo(frame, 6);
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(12), 0x0800);
        var outer = frame.AsSpan(14, 20);
        outer[0] = 0x45;
        outer[1] = innerIp[1];
        BinaryPrimitives.WriteUInt16BigEndian(outer[2..], (ushort)(innerIp.Length + 20));
        BinaryPrimitives.WriteUInt16BigEndian(outer[6..], (ushort)(BinaryPrimitives.ReadUInt16BigEndian(innerIp[6..]) & 0x4000));
        outer[8] = ttl;
        outer[9] = 4;
        source.GetAddressBytes().CopyTo(outer[12..]);
        destination.GetAddressBytes().CopyTo(outer[16..]);
        BinaryPrimitives.WriteUInt16BigEndian(outer[10..], InternetChecksum.Compute(outer));
        innerIp.CopyTo(frame.AsSpan(34));
        return frame;
    }
}
