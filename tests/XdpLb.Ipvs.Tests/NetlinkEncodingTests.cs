using System.Buffers.Binary;
using System.Net;
using XdpLb.Ipvs.Netlink;

namespace XdpLb.Ipvs.Tests;

/// <summary>The bytes of IPVS requests, against the layout of docs/ipvs.md §6 (verified on a real kernel: §8.6).</summary>
public sealed class NetlinkEncodingTests
{
    private static readonly IpvsService Web = new()
    {
        Address = IPAddress.Parse("10.96.0.10"), Port = 80, Protocol = 6, Scheduler = "wrr",
        Flags = IpvsServiceFlags.Persistent | IpvsServiceFlags.Hashed, Timeout = 10800,
    };

    [Fact]
    public void ANewServiceRequestCarriesTheFullServiceNest()
    {
        var message = IpvsClient.FullService(new NetlinkMessageWriter(0x20, NetlinkMessageWriter.FlagRequest | NetlinkMessageWriter.FlagAck, 7, 1, 1), Web).ToArray();

        Assert.Equal(message.Length, (int)BinaryPrimitives.ReadUInt32LittleEndian(message));         // nlmsg_len
        Assert.Equal(0x20, BinaryPrimitives.ReadUInt16LittleEndian(message.AsSpan(4)));                 // the family id
        Assert.Equal(0x5, BinaryPrimitives.ReadUInt16LittleEndian(message.AsSpan(6)));                  // REQUEST|ACK
        Assert.Equal((1, 1), (message[16], message[17]));                                               // NEW_SERVICE, version 1
        var top = NetlinkAttributes.Parse(message.AsSpan(20));
        var svc = top.Nested(IpvsNetlink.AttrService)!;
        Assert.Equal(2, svc.U16(IpvsNetlink.SvcAf));
        Assert.Equal(6, svc.U16(IpvsNetlink.SvcProtocol));
        Assert.Equal([10, 96, 0, 10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], svc.Raw(IpvsNetlink.SvcAddr));
        Assert.Equal([0, 80], svc.Raw(IpvsNetlink.SvcPort));                                            // network order
        Assert.Equal("wrr\0"u8.ToArray(), svc.Raw(IpvsNetlink.SvcSchedName));
        // flags then mask; HASHED is the kernel's and never sent.
        Assert.Equal([1, 0, 0, 0, 0xff, 0xff, 0xff, 0xff], svc.Raw(IpvsNetlink.SvcFlags));
        Assert.Equal(10800u, svc.U32(IpvsNetlink.SvcTimeout));
        Assert.Equal(0xFFFFFFFFu, svc.U32(IpvsNetlink.SvcNetmask));
    }

    [Fact]
    public void AttributesArePaddedToFourBytesAndNestsMeasured()
    {
        var message = new NetlinkMessageWriter(0x20, 1, 1, 5, 1).Begin(1).U8(13, 1).End().ToArray();

        // genl header (4) + nest header (4) + U8 attribute (4 + 1, padded to 8)
        Assert.Equal(16 + 4 + 4 + 8, message.Length);
        Assert.Equal(12, BinaryPrimitives.ReadUInt16LittleEndian(message.AsSpan(20)));                  // the nest's length
        Assert.Equal(5, BinaryPrimitives.ReadUInt16LittleEndian(message.AsSpan(24)));                   // U8 attribute: 4 + 1
    }

    [Fact]
    public void ADestinationReadBackKeepsEveryField()
    {
        var dest = new IpvsDestination { Address = IPAddress.Parse("fd00:11::2"), Port = 8080, Forwarding = IpvsForwarding.Tunnel, Weight = 65535 };
        var message = IpvsClient.FullDest(new NetlinkMessageWriter(0x20, 1, 1, 5, 1), dest).ToArray();

        var read = IpvsClient.ReadDest(NetlinkAttributes.Parse(message.AsSpan(20)).Nested(IpvsNetlink.AttrDest)!, serviceFamily: 10);

        Assert.Equal(dest, read);
    }

    [Fact]
    public void ATruncatedAttributeIsAnErrorNotARead()
    {
        byte[] data = [8, 0, 1, 0, 1, 2]; // says 8 bytes, has 6

        var e = Assert.Throws<InvalidDataException>(() => NetlinkAttributes.Parse(data));

        Assert.Contains("runs past", e.Message);
    }

    [Fact]
    public void AFamilyTheKernelDoesNotHaveIsNamed()
    {
        var e = Assert.Throws<NetlinkFamilyNotFoundException>(() => GenericNetlink.Open("XDPLB_NONE", 1));

        Assert.Equal("XDPLB_NONE", e.Family);
        Assert.Contains("XDPLB_NONE", e.Message);
    }
}
