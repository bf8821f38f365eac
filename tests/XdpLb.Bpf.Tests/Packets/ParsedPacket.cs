using System.Buffers.Binary;
using System.Net;

namespace XdpLb.Bpf.Tests.Packets;

/// <summary>A frame read back from BPF_PROG_TEST_RUN, with its checksums checked from scratch.</summary>
public sealed record ParsedPacket(
    IPAddress Source, IPAddress Destination, byte Protocol, ushort SourcePort, ushort DestPort,
    byte Ttl, bool IpChecksumValid, bool L4ChecksumValid, byte[] Payload)
{
    public static ParsedPacket Parse(byte[] frame)
    {
        ushort etherType = BinaryPrimitives.ReadUInt16BigEndian(frame.AsSpan(12));
        var ipPart = frame.AsSpan(14);
        IPAddress source, destination;
        byte protocol, ttl;
        int ipHeaderLength;
        bool ipValid;
        int l4Length;
        if (etherType == 0x0800)
        {
            ipHeaderLength = (ipPart[0] & 0x0f) * 4;
            int totalLength = BinaryPrimitives.ReadUInt16BigEndian(ipPart[2..]);
            ttl = ipPart[8];
            protocol = ipPart[9];
            source = new IPAddress(ipPart.Slice(12, 4));
            destination = new IPAddress(ipPart.Slice(16, 4));
            ipValid = InternetChecksum.Verifies(ipPart[..ipHeaderLength]);
            l4Length = totalLength - ipHeaderLength;
        }
        else if (etherType == 0x86dd)
        {
            ipHeaderLength = 40;
            l4Length = BinaryPrimitives.ReadUInt16BigEndian(ipPart[4..]);
            protocol = ipPart[6];
            ttl = ipPart[7];
            source = new IPAddress(ipPart.Slice(8, 16));
            destination = new IPAddress(ipPart.Slice(24, 16));
            ipValid = true; // IPv6 has no header checksum
        }
        else
        {
            throw new InvalidDataException($"not an IP frame: ethertype 0x{etherType:x4}");
        }
        var l4 = ipPart.Slice(ipHeaderLength, l4Length);
        ushort sport = BinaryPrimitives.ReadUInt16BigEndian(l4);
        ushort dport = BinaryPrimitives.ReadUInt16BigEndian(l4[2..]);
        bool udpNoChecksum = protocol == PacketBuilder.Udp && etherType == 0x0800 && BinaryPrimitives.ReadUInt16BigEndian(l4[6..]) == 0;
        bool l4Valid = udpNoChecksum || InternetChecksum.Verifies(l4, InternetChecksum.PseudoHeaderSum(source, destination, protocol, l4Length));
        int l4HeaderLength = protocol == PacketBuilder.Tcp ? (l4[12] >> 4) * 4 : 8;
        return new ParsedPacket(source, destination, protocol, sport, dport, ttl, ipValid, l4Valid, l4[l4HeaderLength..].ToArray());
    }
}
