using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace XdpLb.Bpf.Tests.Packets;

[Flags]
public enum TcpFlags : byte
{
    None = 0,
    Fin = 0x01,
    Syn = 0x02,
    Rst = 0x04,
    Psh = 0x08,
    Ack = 0x10,
}

/// <summary>
/// Builds Ethernet frames carrying IPv4/IPv6 with TCP or UDP, every checksum correct,
/// for BPF_PROG_TEST_RUN.
/// </summary>
public sealed record PacketBuilder
{
    public const byte Tcp = 6, Udp = 17;

    public byte[] SourceMac { get; init; } = [0x02, 0, 0, 0, 0, 0x01];
    public byte[] DestMac { get; init; } = [0x02, 0, 0, 0, 0, 0x02];
    public required IPAddress Source { get; init; }
    public required IPAddress Destination { get; init; }
    public byte Protocol { get; init; } = Tcp;
    public ushort SourcePort { get; init; } = 40000;
    public ushort DestPort { get; init; } = 80;
    public TcpFlags Flags { get; init; } = TcpFlags.Syn;
    public byte[] Payload { get; init; } = [];
    public byte Ttl { get; init; } = 64;
    public ushort IpId { get; init; } = 0x1234;
    /// <summary>IPv4 flags+fragment offset word (host order), e.g. 0x2000 for MF.</summary>
    public ushort FragmentField { get; init; }
    /// <summary>IPv4 options bytes (a multiple of 4, at most 40).</summary>
    public byte[] Ipv4Options { get; init; } = [];
    public bool UdpChecksumZero { get; init; }

    public bool IsV6 => Source.AddressFamily == AddressFamily.InterNetworkV6;

    public byte[] Build()
    {
        byte[] l4 = BuildL4();
        byte[] l3 = IsV6 ? BuildIpv6(l4.Length) : BuildIpv4(l4.Length);
        var frame = new byte[14 + l3.Length + l4.Length];
        DestMac.CopyTo(frame, 0);
        SourceMac.CopyTo(frame, 6);
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(12), IsV6 ? (ushort)0x86dd : (ushort)0x0800);
        l3.CopyTo(frame, 14);
        l4.CopyTo(frame, 14 + l3.Length);
        return frame;
    }

    private byte[] BuildL4()
    {
        bool tcp = Protocol == Tcp;
        int headerLength = tcp ? 20 : 8;
        var l4 = new byte[headerLength + Payload.Length];
        BinaryPrimitives.WriteUInt16BigEndian(l4.AsSpan(0), SourcePort);
        BinaryPrimitives.WriteUInt16BigEndian(l4.AsSpan(2), DestPort);
        if (tcp)
        {
            BinaryPrimitives.WriteUInt32BigEndian(l4.AsSpan(4), 1000);             // seq
            BinaryPrimitives.WriteUInt32BigEndian(l4.AsSpan(8), Flags.HasFlag(TcpFlags.Ack) ? 2000u : 0u);
            l4[12] = 5 << 4;                                                        // data offset
            l4[13] = (byte)Flags;
            BinaryPrimitives.WriteUInt16BigEndian(l4.AsSpan(14), 64240);           // window
        }
        else
        {
            BinaryPrimitives.WriteUInt16BigEndian(l4.AsSpan(4), (ushort)l4.Length);
        }
        Payload.CopyTo(l4, headerLength);
        if (tcp || !UdpChecksumZero)
        {
            ushort sum = InternetChecksum.Compute(l4, InternetChecksum.PseudoHeaderSum(Source, Destination, Protocol, l4.Length));
            if (!tcp && sum == 0)
                sum = 0xffff;
            BinaryPrimitives.WriteUInt16BigEndian(l4.AsSpan(tcp ? 16 : 6), sum);
        }
        return l4;
    }

    private byte[] BuildIpv4(int l4Length)
    {
        var ip = new byte[20 + Ipv4Options.Length];
        ip[0] = (byte)(0x40 | (ip.Length / 4));
        BinaryPrimitives.WriteUInt16BigEndian(ip.AsSpan(2), (ushort)(ip.Length + l4Length));
        BinaryPrimitives.WriteUInt16BigEndian(ip.AsSpan(4), IpId);
        BinaryPrimitives.WriteUInt16BigEndian(ip.AsSpan(6), FragmentField);
        ip[8] = Ttl;
        ip[9] = Protocol;
        Source.GetAddressBytes().CopyTo(ip, 12);
        Destination.GetAddressBytes().CopyTo(ip, 16);
        Ipv4Options.CopyTo(ip, 20);
        BinaryPrimitives.WriteUInt16BigEndian(ip.AsSpan(10), InternetChecksum.Compute(ip));
        return ip;
    }

    private byte[] BuildIpv6(int l4Length)
    {
        var ip = new byte[40];
        ip[0] = 0x60;
        BinaryPrimitives.WriteUInt16BigEndian(ip.AsSpan(4), (ushort)l4Length);
        ip[6] = Protocol;
        ip[7] = Ttl;
        Source.GetAddressBytes().CopyTo(ip, 8);
        Destination.GetAddressBytes().CopyTo(ip, 24);
        return ip;
    }
}
