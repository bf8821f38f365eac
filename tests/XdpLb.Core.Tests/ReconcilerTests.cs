using System.Net;
using XdpLb.Core.Model;
using XdpLb.Core.Reconcile;

namespace XdpLb.Core.Tests;

/// <summary>The reconciler's diffs: desired state in, dataplane calls out.</summary>
public sealed class ReconcilerTests
{
    private sealed class RecordingDataplane : IDataplane
    {
        private readonly Dictionary<ServiceKey, Service> services = new();
        public List<string> Calls { get; } = [];
        public List<ServiceKey> Drifted { get; } = [];
        public IReadOnlyDictionary<ServiceKey, Service> Applied => services;
        public ServiceKey? FailOn { get; set; }
        public List<int> EndSyncs { get; } = []; // the number of calls made before each EndSync

        public void SetTimeouts(Timeouts timeouts) => Calls.Add($"timeouts {timeouts.Tcp}/{timeouts.TcpFin}/{timeouts.Udp}");

        public void SetMasquerade(MasqSettings masq) => Calls.Add($"masq {masq.PortRange}");

        public void SetClusterCidrs(IReadOnlyList<string> cidrs)
        {
            if (cidrs.Count > 0)
                Calls.Add($"clusterCidrs {string.Join(",", cidrs)}");
        }

        public void ApplyService(Service service)
        {
            if (service.Key == FailOn)
                throw new InvalidOperationException($"apply {service.Key} failed");
            services[service.Key!] = service;
            Calls.Add($"apply {service.Key}");
        }

        public void RemoveService(ServiceKey key)
        {
            services.Remove(key);
            Calls.Add($"remove {key}");
        }

        public IReadOnlyList<ServiceKey> FindDrift() => Drifted;

        public void EndSync() => EndSyncs.Add(Calls.Count);
    }

    private static Service Web(int n, params string[] backends) => new()
    {
        Name = $"web{n}",
        Address = IPAddress.Parse($"10.96.0.{n}"),
        Port = 80,
        Backends = backends.Select(b => new Backend(IPAddress.Parse(b), 8080)).ToList(),
    };

    private static LbConfig Config(params Service[] services) => new() { Services = services };

    [Fact]
    public void FirstSyncAppliesEverything()
    {
        var dp = new RecordingDataplane();

        var result = new Reconciler(dp).Sync(Config(Web(1, "10.0.0.1"), Web(2, "10.0.0.2")), full: false);

        Assert.Equal(["timeouts 900/120/300", "masq 32768-60999", "apply 10.96.0.1:80/tcp", "apply 10.96.0.2:80/tcp"], dp.Calls);
        Assert.Equal(2, result.Added.Count);
    }

    [Fact]
    public void ASyncEndsOnceAfterAllItsChanges()
    {
        var dp = new RecordingDataplane();
        var reconciler = new Reconciler(dp);

        reconciler.Sync(Config(Web(1, "10.0.0.1"), Web(2, "10.0.0.2"), Web(3, "10.0.0.3")), full: false);
        reconciler.Sync(Config(Web(1, "10.0.0.1")), full: true);

        Assert.Equal(7, dp.Calls.Count);
        Assert.Equal([5, 7], dp.EndSyncs);
    }

    [Fact]
    public void ASyncThatFailsStillEndsForWhatItChanged()
    {
        var dp = new RecordingDataplane { FailOn = Web(2).Key };

        Assert.Throws<InvalidOperationException>(() => new Reconciler(dp).Sync(Config(Web(1, "10.0.0.1"), Web(2, "10.0.0.2")), full: false));

        Assert.Equal("apply 10.96.0.1:80/tcp", dp.Calls[^1]);
        Assert.Equal([dp.Calls.Count], dp.EndSyncs);
    }

    [Fact]
    public void ABackendChangeTouchesOnlyItsService()
    {
        var dp = new RecordingDataplane();
        var reconciler = new Reconciler(dp);
        reconciler.Sync(Config(Web(1, "10.0.0.1"), Web(2, "10.0.0.2")), full: false);
        dp.Calls.Clear();

        // New objects with equal content for web1: not a change.
        var result = reconciler.Sync(Config(Web(1, "10.0.0.1"), Web(2, "10.0.0.2", "10.0.0.3")), full: false);

        Assert.Equal(["apply 10.96.0.2:80/tcp"], dp.Calls);
        Assert.Equal([new ServiceKey(IPAddress.Parse("10.96.0.2"), 80, Protocol.Tcp)], result.Updated);
        Assert.Empty(result.Added);
    }

    [Fact]
    public void UnchangedDesiredStateMakesNoCalls()
    {
        var dp = new RecordingDataplane();
        var reconciler = new Reconciler(dp);
        reconciler.Sync(Config(Web(1, "10.0.0.1")), full: false);
        dp.Calls.Clear();

        var result = reconciler.Sync(Config(Web(1, "10.0.0.1")), full: false);

        Assert.Empty(dp.Calls);
        Assert.False(result.Changed);
    }

    [Fact]
    public void RemovalsGoFirst()
    {
        var dp = new RecordingDataplane();
        var reconciler = new Reconciler(dp);
        reconciler.Sync(Config(Web(1, "10.0.0.1")), full: false);
        dp.Calls.Clear();

        reconciler.Sync(Config(Web(2, "10.0.0.1")), full: false);

        Assert.Equal(["remove 10.96.0.1:80/tcp", "apply 10.96.0.2:80/tcp"], dp.Calls);
    }

    [Fact]
    public void FullSyncRepairsDriftOnlyOfWantedServices()
    {
        var dp = new RecordingDataplane();
        var reconciler = new Reconciler(dp);
        var config = Config(Web(1, "10.0.0.1"), Web(2, "10.0.0.2"));
        reconciler.Sync(config, full: false);
        dp.Calls.Clear();
        dp.Drifted.Add(new ServiceKey(IPAddress.Parse("10.96.0.2"), 80, Protocol.Tcp));

        var partial = reconciler.Sync(config, full: false);
        var full = reconciler.Sync(config, full: true);

        Assert.Empty(partial.Repaired);
        Assert.Equal(dp.Drifted, full.Repaired);
        Assert.Equal(["apply 10.96.0.2:80/tcp"], dp.Calls);
    }

    [Fact]
    public void TimeoutChangesReachTheDataplane()
    {
        var dp = new RecordingDataplane();
        var reconciler = new Reconciler(dp);
        reconciler.Sync(Config(), full: false);

        reconciler.Sync(Config() with { Timeouts = new Timeouts(60, 30, 10) }, full: false);

        Assert.Equal(["timeouts 900/120/300", "masq 32768-60999", "timeouts 60/30/10"], dp.Calls);
    }

    [Fact]
    public void MasqPortRangeChangesReachTheDataplaneOnce()
    {
        var dp = new RecordingDataplane();
        var reconciler = new Reconciler(dp);
        var changed = Config() with { Masq = new MasqSettings { PortRange = new PortRange(40000, 40999) } };
        reconciler.Sync(Config(), full: false);

        reconciler.Sync(changed, full: false);
        reconciler.Sync(changed, full: true);

        Assert.Equal(["timeouts 900/120/300", "masq 32768-60999", "masq 40000-40999"], dp.Calls);
    }
}
