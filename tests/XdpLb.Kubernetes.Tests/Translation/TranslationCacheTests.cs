using System.Net;
using XdpLb.Kubernetes.Translation;
using static XdpLb.Kubernetes.Tests.Translation.Objects;

namespace XdpLb.Kubernetes.Tests.Translation;

public class TranslationCacheTests
{
    private static readonly NodeContext Node = new("node-a", [IPAddress.Parse("192.168.1.10")], null);

    [Fact]
    public void OnlyServicesWhoseObjectsChangedAreTranslatedAgainAndTheResultIsTheUncachedOne()
    {
        var services = Enumerable.Range(1, 3).Select(i => Service($"s{i}", $"10.96.0.{i}", Port(80))).ToList();
        var slices = services.Select(s => Slice(s.Metadata.Name, 80, Endpoint("10.0.1.1"))).ToList();
        foreach (var o in services)
            o.Metadata.ResourceVersion = "1";
        foreach (var o in slices)
            o.Metadata.ResourceVersion = "1";
        var settings = new ProxySettings();
        var cache = new TranslationCache();

        cache.Translate(ClusterSnapshot.Of(services, slices), Node, settings, true);
        Assert.Equal((0, 3), (cache.Hits, cache.Misses));

        slices[1].Endpoints.Add(Endpoint("10.0.1.2"));
        slices[1].Metadata.ResourceVersion = "2";
        var snapshot = ClusterSnapshot.Of(services, slices);
        var cached = cache.Translate(snapshot, Node, settings, true);
        Assert.Equal((2, 4), (cache.Hits, cache.Misses));
        Assert.Equal(Describe.All(ServiceTranslator.Translate(snapshot, Node, settings)), Describe.All(cached));
        Assert.Equal("TCP 10.96.0.2:80 rr nat -> 10.0.1.1:80 10.0.1.2:80", Describe.All(cached)[1]);

        // Other settings or another node: everything again.
        cache.Translate(snapshot, Node with { NodePortAddresses = [] }, settings, true);
        Assert.Equal(7, cache.Misses);
        cache.Translate(snapshot, Node with { NodePortAddresses = [] }, new ProxySettings(), true);
        Assert.Equal(10, cache.Misses);
    }

    [Fact]
    public void ObjectsWithoutAResourceVersionAreNeverTakenFromTheCache()
    {
        var snapshot = ClusterSnapshot.Of([Service("s", "10.96.0.1", Port(80))], []);
        var cache = new TranslationCache();
        cache.Translate(snapshot, Node, new ProxySettings(), true);
        cache.Translate(snapshot, Node, new ProxySettings(), true);
        Assert.Equal((0, 2), (cache.Hits, cache.Misses));
    }
}
