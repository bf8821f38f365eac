using System.Net;
using XdpLb.Bpf.Tests.Packets;
using XdpLb.Core.Model;

namespace XdpLb.Bpf.Tests;

/// <summary>A new dataplane over the same maps continues from the saved state exactly where the old one was.</summary>
public sealed class DataplaneStateTests
{
    [Fact]
    public void ImportedStateContinuesSchedulingAndChangesAsBefore()
    {
        var services = new[]
        {
            DataPathHarness.WebService() with { Scheduler = Scheduler.Wrr, Backends = [new Backend(DataPathHarness.BackendAddresses[0], 8080, 3), new Backend(DataPathHarness.BackendAddresses[1], 8080, 1)] },
            new Service { Name = "mh", Address = IPAddress.Parse("10.96.0.20"), Port = 80, Scheduler = Scheduler.Mh, Persistence = 60,
                Flags = [SchedulerFlag.MhPort], Backends = [new Backend(IPAddress.Parse("10.0.20.1"), 80), new Backend(IPAddress.Parse("10.0.20.2"), 80, 0)] },
        };
        var config = DataPathHarness.Config(services);
        using var dp = new DataPathHarness(config, mockFib: true);
        var first = dp.PickedBackend(dp.Run(new PacketBuilder { Source = DataPathHarness.Client, Destination = DataPathHarness.Vip, SourcePort = 1, DestPort = 80 }.Build()));
        string file = Path.Combine(Path.GetTempPath(), $"xdplb-state-{Guid.NewGuid():N}.json");
        try
        {
            dp.Dataplane.ExportState().Save(file);

            var restored = new XdpDataplane(dp.Program);
            restored.ImportState(XdpDataplaneState.TryLoad(file, out var problem) ?? throw new InvalidOperationException(problem));

            Assert.Empty(restored.FindDrift());
            Assert.Equal(dp.Dataplane.Applied.Keys.Select(k => k.ToString()).Order(), restored.Applied.Keys.Select(k => k.ToString()).Order());
            Assert.False(restored.Apply(config).Changed);
            Assert.Equal(dp.Dataplane.BackendId(services[0].Key!, services[0].Backends[1]), restored.BackendId(services[0].Key!, services[0].Backends[1]));
            Assert.NotNull(first);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public void AMissingOrForeignStateFileIsReportedNotThrown()
    {
        Assert.Null(XdpDataplaneState.TryLoad("/nonexistent/xdp-dataplane.json", out var missing));
        Assert.Contains("does not exist", missing);

        string file = Path.GetTempFileName();
        try
        {
            File.WriteAllText(file, "{\"Version\": 99}");
            Assert.Null(XdpDataplaneState.TryLoad(file, out var foreign));
            Assert.Contains("version 99", foreign);
            File.WriteAllText(file, "not json");
            Assert.Null(XdpDataplaneState.TryLoad(file, out var garbage));
            Assert.Contains("cannot be read", garbage);
        }
        finally
        {
            File.Delete(file);
        }
    }
}
