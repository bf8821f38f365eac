using System.Net;
using XdpLb.Core.Config;
using XdpLb.Core.Model;

namespace XdpLb.Bpf.Tests;

/// <summary>Map capacities follow `limits:` and meet the default `limits` (README.md, "Config file").</summary>
public sealed class CapacityTests
{
    [Fact]
    public void DefaultLimitsLoadWithTheDesignedCapacities()
    {
        Prerequisites.RequireRoot();
        using var program = XdpLbProgram.Load(new Limits());

        Assert.Equal(100_000u, program.Services.MaxEntries);
        Assert.Equal(100_000u, program.SchedStates.MaxEntries);
        Assert.Equal(2_000_000u, program.BackendSlots.MaxEntries);       // two generations of 1,000,000 backends
        Assert.Equal(1_000_000u, program.BackendConns.MaxEntries);
        Assert.Equal(2_000_000u, program.Conntrack.MaxEntries);          // both directions of 1,000,000 connections
        Assert.Equal(1_000_000u, program.Affinity.MaxEntries);
    }

    [Theory]
    [InlineData(Scheduler.Rr)]
    [InlineData(Scheduler.Wlc)]
    [InlineData(Scheduler.Sh)]
    [InlineData(Scheduler.Mh)]
    public void AServiceTakesThousandsOfBackends(Scheduler scheduler)
    {
        int count = scheduler == Scheduler.Mh ? 4093 : 4096;
        var backends = Enumerable.Range(0, count).Select(i => new Backend(new IPAddress(new byte[] { 10, 40, (byte)(i >> 8), (byte)i }), 8080)).ToList();
        var service = new Service { Address = DataPathHarness.Vip, Port = 80, Scheduler = scheduler, Backends = backends };
        using var dp = new DataPathHarness(DataPathHarness.Config(service) with { Limits = new Limits(4, 8192, 64) }, mockFib: true);

        var picked = dp.PickedBackend(dp.Run(new Packets.PacketBuilder { Source = DataPathHarness.Client, Destination = DataPathHarness.Vip, DestPort = 80 }.Build()));

        Assert.NotNull(picked);
        Assert.Contains(picked, backends.Select(b => b.Address));
        Assert.Equal(count, dp.Program.BackendSlots.Keys().Count);
    }

    [Fact]
    public void MaglevRefusesMoreBackendsThanItsTable()
    {
        var backends = Enumerable.Range(0, 4094).Select(i => new Backend(new IPAddress(new byte[] { 10, 40, (byte)(i >> 8), (byte)i }), 8080)).ToList();

        var errors = ConfigValidator.ValidateService(new Service { Name = "big", Address = DataPathHarness.Vip, Port = 80, Scheduler = Scheduler.Mh, Backends = backends });

        Assert.Contains(errors, e => e.Contains("service \"big\"") && e.Contains("4094 backends") && e.Contains("at most 4093"));
    }
}
