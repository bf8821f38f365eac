using System.Collections.Concurrent;
using System.Net;
using k8s;
using k8s.Models;
using Microsoft.Extensions.Logging;
using XdpLb.Core.Model;
using XdpLb.FakeKubeApi;
using XdpLb.Kubernetes.Watch;
using static XdpLb.Kubernetes.Tests.Translation.Objects;

namespace XdpLb.Kubernetes.Tests;

/// <summary>
/// The Kubernetes source against the fake API server, through KubernetesClient: list then
/// watch, a dropped watch resumed from its resourceVersion, 410 Gone re-listed, failures
/// retried, bookmarks followed, and a large cluster synced.
/// </summary>
public sealed class KubernetesSourceTests : IDisposable
{
    private readonly FakeApiServer server = FakeApiServer.Start();
    private readonly RecordingLog log = new();
    private int changes;

    private KubernetesSource Start()
    {
        var client = new k8s.Kubernetes(new KubernetesClientConfiguration { Host = server.BaseAddress.ToString() });
        var source = new KubernetesSource(client, "node-a", log, _ => Interlocked.Increment(ref changes));
        source.Start();
        Assert.True(source.Synced.Wait(TimeSpan.FromSeconds(30)), "the source did not sync: " + string.Join("\n", log.Lines));
        return source;
    }

    /// <summary>A list completes before its watch is open: what is sent only to open watches waits for all three.</summary>
    private void WatchesOpen()
    {
        Eventually(() => server.OpenWatches >= 3, "the three watches to be open");
    }

    private void Eventually(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"timed out waiting for: {what}\n{string.Join("\n", log.Lines)}");
            Thread.Sleep(20);
        }
    }

    private static int Backends(KubernetesSource source, string address) =>
        KubernetesDesiredState.Build(source.Snapshot(), source.NodeName, source.Node, new ProxySettings(), [], new Limits(), true)
            .Config.Services.SingleOrDefault(s => s.Address!.ToString() == address)?.Backends.Count ?? -1;

    private static V1Node Node(string name, string zone) => new()
    {
        ApiVersion = "v1",
        Kind = "Node",
        Metadata = new V1ObjectMeta { Name = name, Labels = new Dictionary<string, string> { [NodeAddressing.ZoneLabel] = zone } },
    };

    [Fact]
    public void ListsThenFollowsChangesAndSeesOnlyItsOwnNode()
    {
        server.Apply(Service("web", "10.96.0.10", Port(80)));
        server.Apply(Slice("web", 8080, Endpoint("10.0.1.1")));
        server.Apply(Node("node-a", "zone-a"));
        server.Apply(Node("node-b", "zone-b"));
        using var source = Start();
        Assert.Equal(1, Backends(source, "10.96.0.10"));
        Assert.Equal("zone-a", source.Node!.Labels()[NodeAddressing.ZoneLabel]);

        var slice = Slice("web", 8080, Endpoint("10.0.1.1"), Endpoint("10.0.1.2"));
        server.Apply(slice);
        Eventually(() => Backends(source, "10.96.0.10") == 2, "the second slice");
        server.Delete<V1EndpointSlice>("default", slice.Name());
        Eventually(() => Backends(source, "10.96.0.10") == 1, "the slice's deletion");
        server.Delete<V1Service>("default", "web");
        Eventually(() => Backends(source, "10.96.0.10") == -1, "the service's deletion");
        Assert.True(changes >= 3);
        Assert.Equal(1, source.ServiceLists);
    }

    [Fact]
    public void ADroppedWatchResumesFromItsResourceVersionWithoutARelistAndMissesNothing()
    {
        server.Apply(Service("web", "10.96.0.10", Port(80)));
        using var source = Start();
        int watches = server.WatchCount("endpointslices");
        server.DropWatches();
        server.Apply(Slice("web", 8080, Endpoint("10.0.1.1"), Endpoint("10.0.1.2"), Endpoint("10.0.1.3")));
        Eventually(() => Backends(source, "10.96.0.10") == 3, "the change made while the watch was down");
        Assert.True(server.WatchCount("endpointslices") > watches);
        Assert.Equal(1, source.SliceLists);
        Assert.Contains(server.RequestLog, r => r.Contains("endpointslices") && r.Contains("watch=true") && !r.Contains("resourceVersion=&"));
    }

    [Fact]
    public void Gone410RelistsAndTheStoreMatchesTheServerAgain()
    {
        server.Apply(Service("web", "10.96.0.10", Port(80)));
        server.Apply(Service("old", "10.96.0.11", Port(80)));
        using var source = Start();
        server.Delete<V1Service>("default", "old");
        server.Apply(Slice("web", 8080, Endpoint("10.0.1.1")));
        server.Compact();
        Eventually(() => source.ServiceLists >= 2 && source.SliceLists >= 2, "a re-list after 410");
        Eventually(() => Backends(source, "10.96.0.10") == 1 && Backends(source, "10.96.0.11") == -1, "the state after the re-list");
        Assert.Contains(log.Lines, l => l.Contains("resourceVersion too old"));
    }

    [Theory]
    [InlineData("\n")] // an event whose object does not fit its type
    [InlineData("")]    // a line that runs into the next event: not JSON at all
    public void AnEventThatCannotBeReadMakesTheStoreListAgainRatherThanMissIt(string end)
    {
        server.Apply(Service("web", "10.96.0.10", Port(80)));
        using var source = Start();
        WatchesOpen();
        server.SendRawToWatches("{\"type\":\"MODIFIED\",\"object\":{\"kind\":\"EndpointSlice\",\"metadata\":42}}" + end);
        server.Apply(Slice("web", 8080, Endpoint("10.0.1.1"), Endpoint("10.0.1.2")));
        Eventually(() => source.SliceLists >= 2, "a re-list after the unreadable event");
        Eventually(() => Backends(source, "10.96.0.10") == 2, "the state after the re-list");
        Assert.Contains(log.Lines, l => l.Contains("could not be read"));
    }

    [Fact]
    public void FailedRequestsAreRetriedWithBackoffUntilTheListSucceeds()
    {
        server.Apply(Service("web", "10.96.0.10", Port(80)));
        server.FailNextRequests(4, 503);
        using var source = Start();
        Assert.Equal(0, Backends(source, "10.96.0.10"));
        Assert.Contains(log.Lines, l => l.Contains("list/watch failed") && l.Contains("503"));
    }

    [Fact]
    public void BookmarksAdvanceTheResourceVersionAResumedWatchStartsFrom()
    {
        server.Apply(Service("web", "10.96.0.10", Port(80)));
        using var source = Start();
        string before = source.ServiceResourceVersion!;
        server.Apply(Node("node-z", "zone-z")); // moves the global version; no service event
        WatchesOpen();
        server.SendBookmarks();
        Eventually(() => source.ServiceResourceVersion == server.ResourceVersion, "the bookmark's version");
        Assert.NotEqual(before, source.ServiceResourceVersion);
    }

    [Fact]
    public void AThousandServicesWithTenEndpointsEachSyncFromTheServer()
    {
        for (int i = 0; i < 1000; i++)
        {
            string name = $"svc-{i}";
            server.Apply(Service(name, $"10.96.{i / 250}.{i % 250 + 1}", Port(80)));
            server.Apply(Slice(name, 8080, Enumerable.Range(1, 10).Select(j => Endpoint($"10.{1 + i / 250}.{i % 250}.{j}")).ToArray()));
        }
        using var source = Start();
        var (config, result) = KubernetesDesiredState.Build(source.Snapshot(), source.NodeName, source.Node, new ProxySettings(), [], new Limits(), true);
        Assert.Equal(1000, config.Services.Count);
        Assert.All(config.Services, s => Assert.Equal(10, s.Backends.Count));
        Assert.Empty(result.Problems);
        // Paged: 1,000 objects arrive in pages of 500.
        Assert.Contains(server.RequestLog, r => r.Contains("/api/v1/services") && r.Contains("continue="));
    }

    public void Dispose() => server.Dispose();

    private sealed class RecordingLog : ILogger
    {
        public ConcurrentQueue<string> Lines { get; } = new();
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
        public bool IsEnabled(LogLevel logLevel) => true;
        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            Lines.Enqueue($"{logLevel} {formatter(state, exception)} {string.Join(" ", (state as IEnumerable<KeyValuePair<string, object?>> ?? []).Select(f => $"{f.Key}={f.Value}"))}");
    }
}
