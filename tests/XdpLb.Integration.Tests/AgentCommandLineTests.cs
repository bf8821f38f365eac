namespace XdpLb.Integration.Tests;

/// <summary>The agent refuses bad input with an error that names what was wrong, before touching the kernel.</summary>
public sealed class AgentCommandLineTests : IDisposable
{
    private readonly string configFile = Path.GetTempFileName();

    private ShellResult RunAgent(string config, params string[] extra)
    {
        File.WriteAllText(configFile, config);
        return Shell.Run(Repo.Agent, new[] { "run", "--config", configFile, "--interface", "lo" }.Concat(extra), TimeSpan.FromSeconds(60));
    }

    [Theory]
    [InlineData("scheduler: wlc", "service \"web\"", "scheduler", "wlc")]
    [InlineData("scheduler: fastest", "services[0] \"web\"", "scheduler", "fastest")]
    [InlineData("forwarding: dr", "service \"web\"", "forwarding", "dr")]
    [InlineData("persistence: 10800", "service \"web\"", "persistence", "10800")]
    [InlineData("colour: blue", "services[0] \"web\"", "unknown key", "colour")]
    [InlineData("protocol: sctp", "service \"web\"", "protocol", "sctp")]
    public void UnsupportedOrInvalidServiceKeysAreRejectedByName(string line, string service, string key, string value)
    {
        var r = RunAgent($"""
            services:
              - name: web
                address: 10.96.0.10
                port: 80
                {line}
            """);

        Assert.Equal(2, r.ExitCode);
        Assert.Contains(service, r.Stderr);
        Assert.Contains(key, r.Stderr);
        Assert.Contains(value, r.Stderr);
    }

    [Fact]
    public void OutOfRangePortIsRejectedByName()
    {
        var r = RunAgent("services: [{name: web, address: 10.96.0.10, port: 70000}]");

        Assert.Equal(2, r.ExitCode);
        Assert.Contains("services[0] \"web\".port: \"70000\" is not an integer from 1 to 65535", r.Stderr);
    }

    [Fact]
    public void MalformedAddressAndDuplicateServiceAreRejected()
    {
        var r = RunAgent("""
            services:
              - {name: a, address: 10.96.0.10, port: 80, backends: [{address: 10.0.11.300}]}
              - {name: b, address: 10.96.0.10, port: 80}
              - {name: c, address: 10.96.0.10, port: 80}
            """);

        Assert.Equal(2, r.ExitCode);
        Assert.Contains("\"10.0.11.300\" is not an IPv4 or IPv6 address", r.Stderr);
        Assert.Contains("service \"c\" (10.96.0.10:80/tcp): duplicate of service \"b\"", r.Stderr);
    }

    [Fact]
    public void MissingConfigFileIsAClearError()
    {
        var r = Shell.Run(Repo.Agent, ["run", "--config", "/nonexistent/xdplb.yaml", "--interface", "lo"], TimeSpan.FromSeconds(60));

        Assert.Equal(2, r.ExitCode);
        Assert.Contains("/nonexistent/xdplb.yaml", r.Stderr);
        Assert.Contains("cannot read the config file", r.Stderr);
    }

    [Fact]
    public void UnknownInterfaceFailsWithoutLeavingAnythingAttached()
    {
        var r = RunAgent("services: []", "--interface", "nosuchif0");

        Assert.Equal(1, r.ExitCode);
        Assert.Contains("nosuchif0", r.Stderr);
    }

    [Fact]
    public void UnknownFlagIsAUsageError()
    {
        var r = Shell.Run(Repo.Agent, ["run", "--konfig", "x"], TimeSpan.FromSeconds(60));

        Assert.Equal(2, r.ExitCode);
        Assert.Contains("unknown flag \"--konfig\"", r.Stderr);
    }

    public void Dispose() => File.Delete(configFile);
}
