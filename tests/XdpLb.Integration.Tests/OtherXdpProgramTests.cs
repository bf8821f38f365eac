namespace XdpLb.Integration.Tests;

/// <summary>An interface that already runs another XDP program is refused, and that program keeps running.</summary>
public sealed class OtherXdpProgramTests : IDisposable
{
    private readonly NetnsTopology topology = new();
    private readonly string configFile = Path.GetTempFileName();

    [Theory]
    [InlineData("xdpdrv", "auto")]
    [InlineData("xdpgeneric", "xdp-generic")]
    public void TheAgentRefusesToReplaceIt(string mode, string dataplane)
    {
        Shell.Check("ip", "-n", topology.Lb, "link", "set", "dev", "lb2", mode, "obj", Repo.XdpPassObject, "sec", "xdp");
        File.WriteAllText(configFile, "services: [{address: 10.96.0.10, port: 80, backends: [{address: 10.0.11.2, port: 8080}]}]\n");

        var r = Shell.Run("ip", new[] { "netns", "exec", topology.Lb, Repo.Agent }.Concat(topology.AgentArgs(configFile, "--dataplane", dataplane)), TimeSpan.FromSeconds(60));

        Assert.Equal(1, r.ExitCode);
        Assert.Contains("lb2", r.Stderr);
        Assert.Contains("another XDP program is attached there; xdplb does not replace it: detach it first", r.Stderr);
        var link = topology.Exec(topology.Lb, "ip", "link", "show", "lb2").Stdout;
        Assert.Contains("name xdp_pass", link);                                        // still the other program
        Assert.DoesNotContain("xdplb_ingress", topology.Exec(topology.Lb, "ip", "link", "show", "lbc").Stdout); // nothing left half-attached
    }

    public void Dispose()
    {
        topology.Dispose();
        File.Delete(configFile);
    }
}
