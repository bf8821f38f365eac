using k8s.Models;

namespace XdpLb.Kubernetes.Tests;

public class ProxyHealthTests
{
    private static readonly DateTime T0 = new(2024, 5, 1, 12, 0, 0, DateTimeKind.Utc);
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    [Fact]
    public void HealthyBeforeAnythingHappenedWithNoLastUpdate()
    {
        var health = new ProxyHealth(Timeout);
        var status = health.Check(T0);
        Assert.True(status.Healthy);
        Assert.True(status.NodeEligible);
        Assert.Null(status.LastUpdated);
        Assert.Equal(T0, status.CurrentTime);
    }

    [Fact]
    public void AQueuedChangeIsHealthyUntilItHasWaitedTheTimeout()
    {
        var health = new ProxyHealth(Timeout);
        health.QueuedUpdate(T0);
        Assert.True(health.IsHealthy(T0 + Timeout - TimeSpan.FromTicks(1)));
        Assert.False(health.IsHealthy(T0 + Timeout));
        Assert.False(health.IsHealthy(T0 + TimeSpan.FromHours(1)));
    }

    [Fact]
    public void OnlyTheOldestPendingChangeCounts()
    {
        var health = new ProxyHealth(Timeout);
        health.QueuedUpdate(T0);
        health.QueuedUpdate(T0 + TimeSpan.FromSeconds(50));
        Assert.False(health.IsHealthy(T0 + TimeSpan.FromSeconds(61)));
    }

    [Fact]
    public void UpdatedClearsWhatWasPendingAndRecordsTheTime()
    {
        var health = new ProxyHealth(Timeout);
        health.QueuedUpdate(T0);
        var synced = T0 + TimeSpan.FromSeconds(90);
        Assert.False(health.IsHealthy(synced));

        health.Updated(synced);

        var status = health.Check(synced + TimeSpan.FromHours(5));
        Assert.True(status.Healthy);
        Assert.Equal(synced, status.LastUpdated);
    }

    [Fact]
    public void AChangeAfterASyncStartsANewWait()
    {
        var health = new ProxyHealth(Timeout);
        health.QueuedUpdate(T0);
        health.Updated(T0 + TimeSpan.FromSeconds(1));
        var second = T0 + TimeSpan.FromSeconds(100);
        health.QueuedUpdate(second);
        Assert.True(health.IsHealthy(second + TimeSpan.FromSeconds(59)));
        Assert.False(health.IsHealthy(second + TimeSpan.FromSeconds(60)));
    }

    [Fact]
    public void NodeEligibilityIsReportedButDoesNotMakeTheProxyUnhealthy()
    {
        var health = new ProxyHealth(Timeout);
        health.SetNodeEligible(false);
        var status = health.Check(T0);
        Assert.True(status.Healthy);
        Assert.False(status.NodeEligible);

        health.SetNodeEligible(true);
        Assert.True(health.Check(T0).NodeEligible);
    }

    [Fact]
    public void TimeoutIsTwoSyncPeriodsAsKubeProxyUses()
    {
        Assert.Equal(TimeSpan.FromSeconds(60), ProxyHealth.ForSyncPeriod(TimeSpan.FromSeconds(30)).HealthTimeout);
        Assert.Throws<ArgumentOutOfRangeException>(() => new ProxyHealth(TimeSpan.Zero));
    }

    [Fact]
    public void ANodeIsEligibleUnlessDeletedOrMarkedForDeletionByTheAutoscaler()
    {
        static V1Node Node(params V1Taint[] taints) => new() { Metadata = new V1ObjectMeta { Name = "n1" }, Spec = new V1NodeSpec { Taints = taints } };

        Assert.True(NodeEligibility.IsEligible(new V1Node { Metadata = new V1ObjectMeta { Name = "bare" } }));
        Assert.True(NodeEligibility.IsEligible(Node(new V1Taint { Key = "node.kubernetes.io/unschedulable", Effect = "NoSchedule" })));
        Assert.False(NodeEligibility.IsEligible(Node(new V1Taint { Key = "ToBeDeletedByClusterAutoscaler", Value = "1714564800", Effect = "NoSchedule" })));

        var deleting = Node();
        deleting.Metadata.DeletionTimestamp = DateTime.UtcNow;
        Assert.False(NodeEligibility.IsEligible(deleting));
    }
}
