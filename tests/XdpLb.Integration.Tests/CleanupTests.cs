namespace XdpLb.Integration.Tests;

/// <summary>
/// `xdplb cleanup` after an XDP agent: refused while the agent answers on its API socket;
/// once it stopped (XDP still attached through the pinned links), the interfaces lose their
/// program and the pins and the state file go.
/// </summary>
public sealed class CleanupTests : IDisposable
{
    private readonly NetnsTopology topology = new();
    private readonly string configFile = Path.GetTempFileName();

    // Below the test's bpffs mount, as the default /sys/fs/bpf/xdplb is below /sys/fs/bpf.
    private string PinDir => Path.Combine(topology.Home.PinDir, "xdplb");
    private string StateFile => Path.Combine(topology.Home.StateDir, "xdp-dataplane.json");
    private string[] Flags => ["--bpf-pin-dir", PinDir, "--state-dir", topology.Home.StateDir, "--api-socket", topology.Home.ApiSocket];

    private string Link(string name) => Shell.Check("ip", "-n", topology.Lb, "link", "show", name);

    [Fact]
    public void RefusedWhileTheAgentRunsThenDetachesXdpAndRemovesPinsAndState()
    {
        File.WriteAllText(configFile, "services: [{address: 10.96.0.10, port: 80, backends: [{address: 10.0.11.2, port: 8080}]}]\n");
        string[] run = ["run", "--config", configFile, .. NetnsTopology.LbInterfaces.SelectMany(i => new[] { "--interface", i }), .. Flags];
        using (var agent = AgentProcess.Start(topology.Lb, run))
        {
            var refused = topology.Exec(topology.Lb, [Repo.Agent, "cleanup", .. Flags]);

            Assert.Equal(2, refused.ExitCode);
            Assert.Contains("an agent is running", refused.Stderr);
            Assert.True(File.Exists(Path.Combine(PinDir, "links", "lb1")), "the refused cleanup removed a pin");
            Assert.Equal(0, agent.Stop());
        }
        foreach (var name in NetnsTopology.LbInterfaces)
            Assert.Contains("xdp", Link(name)); // the pinned links outlive the agent
        Assert.True(File.Exists(StateFile));

        var r = topology.Exec(topology.Lb, [Repo.Agent, "cleanup", .. Flags]);

        Assert.True(r.ExitCode == 0, $"cleanup exited {r.ExitCode}:\n{r.Stderr}");
        foreach (var name in NetnsTopology.LbInterfaces)
            Assert.DoesNotContain("xdp", Link(name));
        Assert.False(Directory.Exists(PinDir), $"{PinDir} is still there");
        Assert.False(File.Exists(StateFile), $"{StateFile} is still there");
        Assert.Contains("msg=removed what=\"XDP link of lb1", r.Stderr);

        // Nothing left: a second run finds nothing to remove and succeeds.
        var again = topology.Exec(topology.Lb, [Repo.Agent, "cleanup", .. Flags]);
        Assert.True(again.ExitCode == 0, again.Stderr);
        Assert.Contains("msg=\"cleanup done\" removed=0", again.Stderr);
    }

    public void Dispose()
    {
        topology.Dispose();
        File.Delete(configFile);
    }
}
