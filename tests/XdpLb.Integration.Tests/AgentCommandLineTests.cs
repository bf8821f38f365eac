namespace XdpLb.Integration.Tests;

/// <summary>The agent refuses bad input with an error that names what was wrong, before touching the kernel.</summary>
public sealed class AgentCommandLineTests : IDisposable
{
    private readonly string configFile = Path.GetTempFileName();
    private readonly AgentHome home = new();

    private ShellResult RunAgent(string config, params string[] extra)
    {
        File.WriteAllText(configFile, config);
        // An interface that does not exist: should a config ever be accepted here, the agent
        // fails at attach instead of attaching to anything of the host's.
        return Shell.Run(Repo.Agent, new[] { "run", "--config", configFile, "--interface", "xdplb-none0" }.Concat(home.Flags).Concat(extra), TimeSpan.FromSeconds(60));
    }

    /// <summary>How often the text appears: a refusal is said once, not once per layer that saw it.</summary>
    private static int Occurrences(string text, string of) => of.Split(text).Length - 1;

    [Fact]
    public void AnInvalidConfigExits2NamingTheErrorOnceOnStderr()
    {
        // Every config error is the parser's (ConfigParserTests) or the file's (ConfigFileTests): one is enough here.
        var r = RunAgent("services: [{name: web, address: 10.96.0.10, port: 70000}]");

        Assert.Equal(2, r.ExitCode);
        Assert.Contains($"xdplb: {configFile}: 1 error(s):\n  line 1: services[0] \"web\".port: \"70000\" is not an integer from 1 to 65535\n", r.Stderr);
        Assert.Equal(1, Occurrences("is not an integer from 1 to 65535", r.Stderr));
    }

    [Fact]
    public void TheIpvsDataplaneOnAKernelWithoutIpvsIsAClearError()
    {
        var r = RunAgent("services: []", "--dataplane", "ipvs");

        Assert.Equal(1, r.ExitCode);
        Assert.Contains("the ipvs dataplane cannot run here: the kernel has no IPVS (IP_VS)", r.Stderr);
    }

    [Fact]
    public void WithoutBpfCapabilitiesAutoTriesIpvsAndNamesEachReason()
    {
        File.WriteAllText(configFile, "services: []\n");
        string command = string.Join(' ', new[] { Repo.Agent, "run", "--config", configFile, "--interface", "xdplb-none0" }.Concat(home.Flags));

        // As a node without CAP_BPF/CAP_SYS_ADMIN would run it; this kernel has no IPVS either.
        var r = Shell.Run("capsh", ["--drop=cap_bpf,cap_perfmon,cap_sys_admin", "--", "-c", command], TimeSpan.FromSeconds(60));

        Assert.Equal(1, r.ExitCode);
        Assert.Contains("xdp dataplane unavailable, trying ipvs", r.Stderr);
        Assert.Contains("no dataplane can run here: xdp: loading BPF object xdplb into the kernel: Operation not permitted", r.Stderr);
        Assert.Contains("ipvs: the kernel has no IPVS (IP_VS)", r.Stderr);
    }

    [Fact]
    public void UnknownInterfaceFailsWithoutLeavingAnythingAttached()
    {
        var r = RunAgent("services: []");

        Assert.Equal(1, r.ExitCode);
        Assert.Contains("finding interface xdplb-none0", r.Stderr);
    }

    [Fact]
    public void UnknownFlagIsAUsageError()
    {
        // Every refused command line is RunCommandLineTests'; this one proves the exit status and stderr.
        var r = Shell.Run(Repo.Agent, ["run", "--konfig", "x"], TimeSpan.FromSeconds(60));

        Assert.Equal(2, r.ExitCode);
        Assert.StartsWith("xdplb: unknown flag \"--konfig\"\n", r.Stderr);
        Assert.Equal(1, Occurrences("unknown flag", r.Stderr));
        Assert.Contains("--config", r.Stderr); // the command's help follows
    }

    [Fact]
    public void PinDirectoryOffBpffsIsRefused()
    {
        File.WriteAllText(configFile, "services: []");
        var r = Shell.Run(Repo.Agent, ["run", "--config", configFile, "--interface", "xdplb-none0", "--bpf-pin-dir", home.StateDir], TimeSpan.FromSeconds(60));

        Assert.Equal(2, r.ExitCode);
        Assert.Contains("is not on a BPF filesystem", r.Stderr);
    }

    public void Dispose()
    {
        File.Delete(configFile);
        home.Dispose();
    }
}
