using XdpLb.Core.Model;

namespace XdpLb.Kubernetes.Tests;

public class ProxySettingsTests
{
    [Fact]
    public void DefaultsAreKubeProxys()
    {
        var settings = new ProxySettings();
        Assert.Equal(Scheduler.Rr, settings.Scheduler);
        Assert.Equal(TimeSpan.FromSeconds(30), settings.Sync.SyncPeriod);
        Assert.Equal(new Timeouts(900, 120, 300), settings.Timeouts);
    }
}
