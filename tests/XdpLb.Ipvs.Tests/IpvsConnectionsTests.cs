using System.Net;
using XdpLb.Core.Model;

namespace XdpLb.Ipvs.Tests;

/// <summary>/proc/net/ip_vs_conn as the kernel writes it (%08X for IPv4, %pI6 for IPv6).</summary>
public sealed class IpvsConnectionsTests
{
    [Fact]
    public void EntriesAreReadAndTemplatesLeftOut()
    {
        const string text = """
            Pro FromIP   FPrt ToIP     TPrt DestIP   DPrt State       Expires PEName PEData
            TCP 0A000102 9C40 0A60000A 0050 0A000B02 1F90 ESTABLISHED     899
            UDP fd00:0001:0000:0000:0000:0000:0000:0002 9C41 fd00:0096:0000:0000:0000:0000:0000:0010 0035 fd00:0011:0000:0000:0000:0000:0000:0002 0035 UDP             299
            IP  0A000102 0000 0A60000A 0050 0A000B02 1F90 NONE          10799
            """;

        var entries = IpvsConnections.Parse(text);

        Assert.Equal(2, entries.Count);
        var tcp = entries[0];
        Assert.Equal((Protocol.Tcp, IPAddress.Parse("10.0.1.2"), (ushort)40000), (tcp.Protocol, tcp.Client, tcp.ClientPort));
        Assert.Equal((IPAddress.Parse("10.96.0.10"), (ushort)80, IPAddress.Parse("10.0.11.2"), (ushort)8080), (tcp.Virtual, tcp.VirtualPort, tcp.Destination, tcp.DestinationPort));
        Assert.Equal(("ESTABLISHED", TimeSpan.FromSeconds(899)), (tcp.State, tcp.Expires));
        Assert.Equal(IPAddress.Parse("fd00:96::10"), entries[1].Virtual);
    }
}
