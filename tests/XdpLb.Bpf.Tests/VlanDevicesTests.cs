namespace XdpLb.Bpf.Tests;

/// <summary>/proc/net/vlan/config as the kernel writes it.</summary>
public sealed class VlanDevicesTests
{
    [Fact]
    public void TheKernelsTableIsRead()
    {
        const string text = """
            VLAN Dev name	 | VLAN ID
            Name-Type: VLAN_NAME_TYPE_RAW_PLUS_VID_NO_PAD
            eth0.100       | 100  | eth0
            bond0.4094     | 4094  | bond0

            """;

        Assert.Equal([new VlanDevice("eth0.100", 100, "eth0"), new VlanDevice("bond0.4094", 4094, "bond0")], VlanDevices.Parse(text));
    }

    [Theory]
    [InlineData("eth0.100 | 100")]
    [InlineData("eth0.5000 | 5000 | eth0")]
    [InlineData("eth0.x | x | eth0")]
    public void ALineOfAnotherShapeIsAnErrorNamingIt(string line)
    {
        var e = Assert.Throws<FormatException>(() => VlanDevices.Parse("VLAN Dev name | VLAN ID\nName-Type: X\n" + line + "\n"));

        Assert.Contains(line, e.Message);
    }

    [Fact]
    public void WithoutTheFileThereAreNoVlanDevices() =>
        Assert.Empty(VlanDevices.Read("/nonexistent/net/vlan/config"));
}
