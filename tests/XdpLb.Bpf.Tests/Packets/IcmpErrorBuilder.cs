using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace XdpLb.Bpf.Tests.Packets;

/// <summary>ICMP / ICMPv6 error messages quoting a packet, with correct checksums.</summary>
public static class IcmpErrorBuilder
{
    /// <param name="quoted">A frame built by <see cref="PacketBuilder"/>: its IP header and 8 bytes after it are quoted.</param>
    /// <param name="macs">The frame's source and destination MACs; 02:..:01 to 02:..:02 when null.</param>
    public static byte[] Build(IPAddress source, IPAddress destination, byte type, byte code, byte[] quoted, uint rest = 0,
        byte ttl = 64, (byte[] Source, byte[] Destination)? macs = null)
    {
        bool v6 = source.AddressFamily == AddressFamily.InterNetworkV6;
        int quotedIpHeader = v6 ? 40 : (quoted[14] & 0x0f) * 4;
        var quote = quoted.AsSpan(14, quotedIpHeader + 8);
        var icmp = new byte[8 + quote.Length];
        icmp[0] = type;
        icmp[1] = code;
        BinaryPrimitives.WriteUInt32BigEndian(icmp.AsSpan(4), rest);
        quote.CopyTo(icmp.AsSpan(8));
        uint pseudo = v6 ? InternetChecksum.PseudoHeaderSum(source, destination, 58, icmp.Length) : 0;
        BinaryPrimitives.WriteUInt16BigEndian(icmp.AsSpan(2), InternetChecksum.Compute(icmp, pseudo));

        var frame = new byte[14 + (v6 ? 40 : 20) + icmp.Length];
        if (macs is var (sourceMac, destinationMac))
        {
            destinationMac.CopyTo(frame, 0);
            sourceMac.CopyTo(frame, 6);
        }
        else
        {
            frame[0] = 0x02; frame[5] = 0x02; frame[6] = 0x02; frame[11] = 0x01;
        }
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(12), v6 ? (ushort)0x86dd : (ushort)0x0800);
        var ip = frame.AsSpan(14);
        if (v6)
        {
            ip[0] = 0x60;
            BinaryPrimitives.WriteUInt16BigEndian(ip[4..], (ushort)icmp.Length);
            ip[6] = 58;
            ip[7] = ttl;
            source.GetAddressBytes().CopyTo(ip[8..]);
            destination.GetAddressBytes().CopyTo(ip[24..]);
            icmp.CopyTo(ip[40..]);
        }
        else
        {
            ip[0] = 0x45;
            BinaryPrimitives.WriteUInt16BigEndian(ip[2..], (ushort)(20 + icmp.Length));
            ip[8] = ttl;
            ip[9] = 1;
            source.GetAddressBytes().CopyTo(ip[12..]);
            destination.GetAddressBytes().CopyTo(ip[16..]);
            BinaryPrimitives.WriteUInt16BigEndian(ip[10..], InternetChecksum.Compute(ip[..20]));
            icmp.CopyTo(ip[20..]);
        }
        return frame;
    }
}
