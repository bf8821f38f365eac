using System.Net;
using XdpLb.Bpf.Maps;
using XdpLb.Core.Model;
using XdpLb.Core.Reconcile;

namespace XdpLb.Bpf.Tests;

/// <summary>Map entries changed behind the agent's back are found and repaired by a full sync; others are left alone.</summary>
public sealed class DriftTests
{
    private static Service Second => new()
    {
        Name = "other", Address = IPAddress.Parse("10.96.0.20"), Port = 80, Scheduler = Scheduler.Sh,
        Backends = [new Backend(IPAddress.Parse("10.0.20.1"), 80), new Backend(IPAddress.Parse("10.0.20.2"), 80)],
    };

    [Fact]
    public void TamperedEntriesAreRepairedByAFullSync()
    {
        var config = DataPathHarness.Config(DataPathHarness.WebService(), Second);
        using var dp = new DataPathHarness(config);
        var reconciler = new Reconciler(dp.Dataplane);
        var webKey = XdpDataplane.ToKey(DataPathHarness.WebService().Key!);
        var otherKey = XdpDataplane.ToKey(Second.Key!);
        Assert.True(dp.Program.Services.TryLookup(webKey, out var web));
        Assert.True(dp.Program.Services.TryLookup(otherKey, out var other));

        // Behind the agent's back: a slot of web deleted, and other's table zeroed.
        dp.Program.BackendSlots.Delete(new SlotKey { ServiceId = web.Id, Generation = web.Generation, Index = 1 });
        dp.Program.BucketTables.Update(new TableKey { ServiceId = other.Id, Generation = other.Generation }, default);

        Assert.Equal(2, dp.Dataplane.FindDrift().Count);
        var result = reconciler.Sync(config, full: true);

        Assert.Equal(2, result.Repaired.Count);
        Assert.Empty(dp.Dataplane.FindDrift());
        Assert.Equal(3, dp.Program.BackendSlots.Keys().Count(k => k.ServiceId == web.Id && k.Generation != web.Generation));
    }

    [Fact]
    public void ChangingOneServiceLeavesTheOthersEntriesAsTheyWere()
    {
        var config = DataPathHarness.Config(DataPathHarness.WebService(), Second);
        using var dp = new DataPathHarness(config);
        var otherKey = XdpDataplane.ToKey(Second.Key!);
        Assert.True(dp.Program.Services.TryLookup(otherKey, out var before));

        var web = DataPathHarness.WebService();
        dp.Dataplane.Apply(config with { Services = [web with { Backends = web.Backends.Take(2).ToList() }, Second] });

        Assert.True(dp.Program.Services.TryLookup(otherKey, out var after));
        Assert.Equal(before, after);                      // same generation: not rewritten
        Assert.Empty(dp.Dataplane.FindDrift());
    }
}
