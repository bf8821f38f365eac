using XdpLb.Core.Config;

namespace XdpLb.Agent.Tests;

/// <summary>
/// The config file as the agent reads it: the parser's checks (XdpLb.Core.Tests' ConfigParserTests),
/// then what the file itself and the XDP dataplane add.
/// </summary>
public sealed class ConfigFileTests : IDisposable
{
    private readonly string path = Path.GetTempFileName();

    private ConfigException Refusal(string yaml, bool checkXdpSupport = true)
    {
        File.WriteAllText(path, yaml);
        return Assert.Throws<ConfigException>(() => ConfigFile.Read(path, checkXdpSupport));
    }

    [Fact]
    public void AMissingFileIsNamedWithTheReason()
    {
        var e = Assert.Throws<ConfigException>(() => ConfigFile.Read("/nonexistent/xdplb.yaml"));

        Assert.Equal("cannot read the config file: Could not find a part of the path '/nonexistent/xdplb.yaml'.", Assert.Single(e.Errors));
        Assert.StartsWith("/nonexistent/xdplb.yaml: 1 error(s):", e.Message);
    }

    [Fact]
    public void AnEmptyFileIsRefused()
    {
        var e = Refusal(" \n");

        Assert.Equal("the config file is empty (to serve no services, write `services: []`)", Assert.Single(e.Errors));
    }

    [Theory]
    [InlineData("protocol: sctp", "service \"web\" (10.96.0.10:80/sctp): protocol: \"sctp\" is not supported by the XDP dataplane yet")]
    [InlineData("externalTrafficPolicy: local", "service \"web\" (10.96.0.10:80/tcp): externalTrafficPolicy: \"local\" applies to nodePort services only")]
    public void WhatTheXdpDataplaneDoesNotDoIsRefusedByName(string line, string message)
    {
        var e = Refusal($"""
            services:
              - name: web
                address: 10.96.0.10
                port: 80
                {line}
            """);

        Assert.Equal(message, Assert.Single(e.Errors));
        Assert.StartsWith($"{path}: 1 error(s):", e.Message);
    }

    [Fact]
    public void TheParsersErrorsComeFirstAndNameTheFile()
    {
        var e = Refusal("services: [{name: web, address: 10.96.0.10, port: 80, protocol: sctp, scheduler: fastest}]");

        Assert.StartsWith("line 1: services[0] \"web\".scheduler: \"fastest\" is not a scheduler", Assert.Single(e.Errors));
        Assert.StartsWith($"{path}: 1 error(s):", e.Message);
    }

    [Fact]
    public void WithoutTheXdpCheckSctpIsRead()
    {
        File.WriteAllText(path, "services: [{name: web, address: 10.96.0.10, port: 80, protocol: sctp}]");

        var s = Assert.Single(ConfigFile.Read(path, checkXdpSupport: false).Services);

        Assert.Equal(Core.Model.Protocol.Sctp, s.Protocol);
    }

    public void Dispose() => File.Delete(path);
}
