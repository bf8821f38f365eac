using k8s.Models;

namespace XdpLb.Kubernetes.Tests;

public class ProxyHealthTests
{
    private static readonly DateTime T0 = new(2024, 5, 1, 12, 0, 0, DateTimeKind.Utc);
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    [Fact]
    public void Healthy_before_anything_happened_with_no_last_update()
    {
        var health = new ProxyHealth(Timeout);
        var status = health.Check(T0);
        Assert.True(status.Healthy);
        Assert.True(status.NodeEligible);
        Assert.Null(status.LastUpdated);
        Assert.Equal(T0, status.CurrentTime);
    }

    [Fact]
    public void A_queued_change_is_healthy_until_it_has_waited_the_timeout()
    {
        var health = new ProxyHealth(Timeout);
        health.QueuedUpdate(T0);
        Assert.True(health.IsHealthy(T0 + Timeout - TimeSpan.FromTicks(1)));
        Assert.False(health.IsHealthy(T0 + Timeout));
        Assert.False(health.IsHealthy(T0 + TimeSpan.FromHours(1)));
    }

    [Fact]
    public void Only_the_oldest_pending_change_counts()
    {
        var health = new ProxyHealth(Timeout);
        health.QueuedUpdate(T0);
        health.QueuedUpdate(T0 + TimeSpan.FromSeconds(50));
        Assert.False(health.IsHealthy(T0 + TimeSpan.FromSeconds(61)));
    }

    [Fact]
    public void Updated_clears_what_was_pending_and_records_the_time()
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
    public void A_change_after_a_sync_starts_a_new_wait()
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
    public void Node_eligibility_is_reported_but_does_not_make_the_proxy_unhealthy()
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
    public void Timeout_is_two_sync_periods_as_kube_proxy_uses()
    {
        Assert.Equal(TimeSpan.FromSeconds(60), ProxyHealth.ForSyncPeriod(TimeSpan.FromSeconds(30)).HealthTimeout);
        Assert.Throws<ArgumentOutOfRangeException>(() => new ProxyHealth(TimeSpan.Zero));
    }

    [Fact]
    public void A_node_is_eligible_unless_deleted_or_marked_for_deletion_by_the_autoscaler()
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
