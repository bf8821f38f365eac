using System.Net;
using Microsoft.Extensions.Logging.Abstractions;

namespace XdpLb.Agent.Tests;

/// <summary>
/// `xdplb run`'s command line against its System.CommandLine definition: what is refused, in
/// xdplb's words, before anything runs. That a refusal exits 2 with its message on stderr is
/// the integration layer's (AgentCommandLineTests).
/// </summary>
public sealed class RunCommandLineTests
{
    private static readonly AgentCommandLine CommandLine = new(NullLoggerFactory.Instance);

    /// <summary>What `xdplb run ARGS` is refused with: a parse error, else a check between flags.</summary>
    private static UsageException Refusal(string args)
    {
        var parse = CommandLine.Parse(["run", .. args.Split(' ')]);
        return parse.Errors.Count > 0 ? AgentCommandLine.Refusal(parse) : Assert.Throws<UsageException>(() => RunCommandLine.Bind(parse));
    }

    [Fact]
    public void AGoodCommandLineBindsEveryFlag()
    {
        var parse = CommandLine.Parse(["run", "--config", "/etc/xdplb.yaml", "--interface", "lb0", "--interface", "lb1",
            "--dataplane", "xdp", "--dataplane", "ipvs", "--metrics-address", "127.0.0.1:9000", "--detach-on-exit"]);

        Assert.Empty(parse.Errors);
        var options = RunCommandLine.Bind(parse);
        Assert.Equal("/etc/xdplb.yaml", options.ConfigFile);
        Assert.Equal(["lb0", "lb1"], options.Interfaces);
        Assert.Equal(DataplaneChoice.Ipvs, options.Dataplane); // given twice, the last counts
        Assert.Equal(IPEndPoint.Parse("127.0.0.1:9000"), options.MetricsAddress);
        Assert.True(options.DetachOnExit);
        Assert.Null(options.ApiTcp);
    }

    [Fact]
    public void AnUnknownFlagIsRefusedByName()
    {
        var e = Refusal("--konfig x");

        Assert.Equal("unknown flag \"--konfig\"", e.Message);
        Assert.True(e.ShowUsage);
    }

    [Fact]
    public void AnUnknownCommandIsRefusedByName()
    {
        var e = AgentCommandLine.Refusal(CommandLine.Parse(["rnu"]));

        Assert.Equal("unknown command \"rnu\"", e.Message);
        Assert.True(e.ShowUsage);
    }

    [Fact]
    public void AFlagWithoutItsValueIsRefusedByName()
    {
        var e = Refusal("--interface lb0 --config");

        Assert.Equal("--config needs a value", e.Message);
        Assert.True(e.ShowUsage);
    }

    [Theory]
    [InlineData("--metrics-address 9469", "--metrics-address \"9469\" is not ADDR:PORT (e.g. 127.0.0.1:9469)")]
    [InlineData("--healthz-address 0.0.0.0:0", "--healthz-address \"0.0.0.0:0\" is not ADDR:PORT (e.g. 0.0.0.0:10256)")]
    [InlineData("--api-listen 9470", "--api-listen \"9470\" is not ADDR:PORT (e.g. 10.0.0.5:9470)")]
    [InlineData("--api-listen 127.0.0.1:9470 --api-listen localhost:9470", "--api-listen \"localhost:9470\" is not ADDR:PORT (e.g. 10.0.0.5:9470)")]
    [InlineData("--dataplane fast", "--dataplane \"fast\" is not one of auto, xdp, xdp-generic, ipvs")]
    public void BadFlagValuesAreRefusedByName(string flags, string message)
    {
        Assert.Equal(message, Refusal($"--config c.yaml --interface lb0 {flags}").Message);
    }

    [Theory]
    [InlineData("--config c.yaml", "at least one --interface IF is required")]
    [InlineData("--interface lb0", "--config FILE or --kubernetes is required")]
    [InlineData("--config c.yaml --interface lb0 --interface lb0", "--interface lb0 is given twice")]
    [InlineData("--config c.yaml --interface lb0 --hostname-override node1", "--kubeconfig, --hostname-override and --kube-proxy-config go with --kubernetes")]
    [InlineData("--config c.yaml --interface lb0 --insecure-api", "--insecure-api goes with --api-listen ADDR:PORT")]
    [InlineData("--config c.yaml --interface lb0 --api-cert a.crt --api-key a.key --api-client-ca ca.pem",
        "--api-cert, --api-key and --api-client-ca go with --api-listen ADDR:PORT")]
    [InlineData("--config c.yaml --interface lb0 --api-listen 127.0.0.1:9470 --insecure-api --api-client-ca ca.pem",
        "--insecure-api serves the API without TLS: it does not go with --api-cert, --api-key or --api-client-ca")]
    [InlineData("--config c.yaml --interface lb0 --api-listen 127.0.0.1:9470",
        "--api-listen 127.0.0.1:9470 needs TLS with client certificates: --api-cert, --api-key, --api-client-ca missing " +
        "(--api-cert FILE --api-key FILE --api-client-ca FILE; or --insecure-api to serve the API unauthenticated in plaintext)")]
    [InlineData("--config c.yaml --interface lb0 --api-listen 127.0.0.1:9470 --api-cert a.crt --api-key a.key",
        "--api-listen 127.0.0.1:9470 needs TLS with client certificates: --api-client-ca missing " +
        "(--api-cert FILE --api-key FILE --api-client-ca FILE; or --insecure-api to serve the API unauthenticated in plaintext)")]
    public void FlagsThatDoNotGoTogetherAreRefused(string flags, string message)
    {
        Assert.Equal(message, Refusal(flags).Message);
    }
}
