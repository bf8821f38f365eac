using System.Collections.Concurrent;
using System.Diagnostics;
using k8s;
using k8s.Autorest;
using k8s.Models;
using XdpLb.FakeKubeApi;

namespace XdpLb.Kubernetes.Tests;

/// <summary>
/// The fake API server, driven by KubernetesClient itself: if the client accepts what the fake
/// says, the Kubernetes source's tests against it exercise the real protocol.
/// </summary>
public sealed class FakeApiServerTests : IDisposable
{
    // Only keeps a broken test from hanging the run; no assertion depends on it.
    private readonly CancellationTokenSource guard = new(TimeSpan.FromSeconds(60));
    private readonly FakeApiServer server = FakeApiServer.Start();
    private readonly k8s.Kubernetes client;

    public FakeApiServerTests()
    {
        client = new k8s.Kubernetes(new KubernetesClientConfiguration { Host = server.BaseAddress.ToString() });
    }

    public void Dispose()
    {
        client.Dispose();
        server.Dispose();
        guard.Dispose();
    }

    [Fact]
    public async Task FakeApiServerListReturnsAppliedObjectsSortedWithTheCurrentVersion()
    {
        server.Apply(Service("web", "b"));
        server.Apply(Service("kube-system", "dns"));
        string rv = server.Apply(Service("web", "a"));

        var list = await client.CoreV1.ListServiceForAllNamespacesAsync(cancellationToken: guard.Token);

        Assert.Equal(rv, list.Metadata.ResourceVersion);
        Assert.Equal(["kube-system/dns", "web/a", "web/b"], list.Items.Select(s => $"{s.Metadata.NamespaceProperty}/{s.Metadata.Name}"));
        Assert.All(list.Items, s => Assert.False(string.IsNullOrEmpty(s.Metadata.Uid)));
        Assert.Equal(rv, list.Items.Single(s => s.Metadata.Name == "a").Metadata.ResourceVersion);
        Assert.Equal(8080, list.Items[1].Spec.Ports[0].Port);

        var inWeb = await client.CoreV1.ListNamespacedServiceAsync("web", cancellationToken: guard.Token);
        Assert.Equal(["a", "b"], inWeb.Items.Select(s => s.Metadata.Name));
    }

    [Fact]
    public async Task FakeApiServerKeepsACopyAndGivesEachChangeAHigherVersion()
    {
        var service = Service("web", "a");
        long first = long.Parse(server.Apply(service));
        service.Spec.Ports[0].Port = 9999; // the caller's object is not the stored one
        long second = long.Parse(server.Apply(Service("web", "b")));

        var list = await client.CoreV1.ListServiceForAllNamespacesAsync(cancellationToken: guard.Token);

        Assert.True(second > first);
        Assert.Equal(8080, list.Items.Single(s => s.Metadata.Name == "a").Spec.Ports[0].Port);
    }

    [Fact]
    public async Task FakeApiServerWatchFromTheListsVersionSeesLaterChangesInOrder()
    {
        server.Apply(Service("web", "before"));
        var list = await client.CoreV1.ListServiceForAllNamespacesAsync(cancellationToken: guard.Token);

        await using var watch = WatchServices(list.Metadata.ResourceVersion);
        string added = server.Apply(Service("web", "a"));
        var changed = Service("web", "a");
        changed.Spec.Ports[0].Port = 9090;
        string modified = server.Apply(changed);
        string deleted = server.Delete<V1Service>("web", "a");

        var (type1, obj1) = await watch.NextAsync();
        var (type2, obj2) = await watch.NextAsync();
        var (type3, obj3) = await watch.NextAsync();

        Assert.Equal((WatchEventType.Added, added), (type1, obj1.Metadata.ResourceVersion));
        Assert.Equal(("v1", "Service"), (obj1.ApiVersion, obj1.Kind));
        Assert.Equal((WatchEventType.Modified, modified, 9090), (type2, obj2.Metadata.ResourceVersion, obj2.Spec.Ports[0].Port));
        Assert.Equal(obj1.Metadata.Uid, obj2.Metadata.Uid);
        Assert.Equal((WatchEventType.Deleted, deleted, "a"), (type3, obj3.Metadata.ResourceVersion, obj3.Metadata.Name));
        Assert.Empty(watch.Errors);
    }

    [Fact]
    public async Task FakeApiServerWatchWithoutAVersionStartsWithEveryObjectAdded()
    {
        server.Apply(Service("web", "b"));
        server.Apply(Service("web", "a"));

        await using var watch = WatchServices("");
        var first = await watch.NextAsync();
        var second = await watch.NextAsync();
        server.Apply(Service("web", "c"));
        var live = await watch.NextAsync();

        Assert.Equal([(WatchEventType.Added, "a"), (WatchEventType.Added, "b"), (WatchEventType.Added, "c")],
            new[] { first, second, live }.Select(e => (e.Type, e.Object.Metadata.Name)));
    }

    [Fact]
    public async Task FakeApiServerResumedWatchReplaysTheChangesItMissed()
    {
        string start = server.ResourceVersion;
        string lastSeen;
        await using (var watch = WatchServices(start))
        {
            server.Apply(Service("web", "a"));
            lastSeen = (await watch.NextAsync()).Object.Metadata.ResourceVersion;
        }

        // changes while nobody watches
        server.Apply(Service("web", "b"));
        var changed = Service("web", "a");
        changed.Metadata.Labels = new Dictionary<string, string> { ["tier"] = "front" };
        server.Apply(changed);
        server.Delete<V1Service>("web", "b");

        await using var resumed = WatchServices(lastSeen);
        var replayed = new[] { await resumed.NextAsync(), await resumed.NextAsync(), await resumed.NextAsync() };

        Assert.Equal([(WatchEventType.Added, "b"), (WatchEventType.Modified, "a"), (WatchEventType.Deleted, "b")],
            replayed.Select(e => (e.Type, e.Object.Metadata.Name)));
        Assert.Equal("front", replayed[1].Object.Metadata.Labels["tier"]);
    }

    [Fact]
    public async Task FakeApiServerCompactionExpiresAnOpenWatchAndAWatchFromAnOldVersion()
    {
        string old = server.ResourceVersion;
        await using (var watch = WatchServices(old))
        {
            server.Apply(Service("web", "a"));
            await watch.NextAsync();
            Assert.Equal(1, server.OpenWatches);

            server.Compact();

            Assert.True(await watch.EndedAsync());
            AssertGone(Assert.Single(watch.Errors));
        }
        Assert.Equal(0, server.OpenWatches);

        await using var late = WatchServices(old);
        Assert.True(await late.EndedAsync());
        AssertGone(Assert.Single(late.Errors));

        var listFromOld = await Assert.ThrowsAsync<HttpOperationException>(() =>
            client.CoreV1.ListServiceForAllNamespacesAsync(resourceVersion: old, cancellationToken: guard.Token));
        Assert.Equal(410, (int)listFromOld.Response.StatusCode);
        Assert.Contains("too old resource version", listFromOld.Response.Content);

        var listFromZero = await client.CoreV1.ListServiceForAllNamespacesAsync(resourceVersion: "0", cancellationToken: guard.Token);
        Assert.Single(listFromZero.Items);
    }

    private static void AssertGone(Exception error)
    {
        var expired = Assert.IsType<KubernetesException>(error);
        Assert.Equal(410, expired.Status.Code);
        Assert.Equal("Expired", expired.Status.Reason);
        Assert.Contains("too old resource version", expired.Status.Message);
    }

    [Fact]
    public async Task FakeApiServerBookmarksCarryTheCurrentVersionOnlyToWatchesThatAsked()
    {
        string start = server.ResourceVersion;
        await using var withBookmarks = WatchServices(start, bookmarks: true);
        await using var without = WatchServices(start, bookmarks: false);
        server.Apply(Service("web", "a"));
        await withBookmarks.NextAsync();
        await without.NextAsync();

        server.SendBookmarks();
        string current = server.ResourceVersion;
        server.Apply(Service("web", "b"));

        var bookmark = await withBookmarks.NextAsync();
        Assert.Equal((WatchEventType.Bookmark, current), (bookmark.Type, bookmark.Object.Metadata.ResourceVersion));
        Assert.Equal((WatchEventType.Added, "b"), (await withBookmarks.NextAsync()) is var e1 ? (e1.Type, e1.Object.Metadata.Name) : default);
        Assert.Equal((WatchEventType.Added, "b"), (await without.NextAsync()) is var e2 ? (e2.Type, e2.Object.Metadata.Name) : default);
    }

    [Fact]
    public async Task FakeApiServerDroppingWatchesBreaksTheStreamAndTheClientCanWatchAgain()
    {
        string start = server.ResourceVersion;
        await using var watch = WatchServices(start);
        server.Apply(Service("web", "a"));
        var seen = await watch.NextAsync();

        server.DropWatches();

        bool ended;
        try
        {
            ended = await watch.EndedAsync();
        }
        catch (IOException)
        {
            ended = true;
        }
        Assert.True(ended);
        Assert.Equal(0, server.OpenWatches);

        server.Apply(Service("web", "b"));
        await using var again = WatchServices(seen.Object.Metadata.ResourceVersion);
        Assert.Equal("b", (await again.NextAsync()).Object.Metadata.Name);
        Assert.Equal(2, server.WatchCount("services"));
    }

    [Fact]
    public async Task FakeApiServerWatchEndsCleanlyAfterItsTimeout()
    {
        server.Apply(Service("web", "a"));
        await using var watch = WatchServices("", timeoutSeconds: 1);

        Assert.Equal("a", (await watch.NextAsync()).Object.Metadata.Name);
        Assert.True(await watch.EndedAsync());
        Assert.Empty(watch.Errors);
    }

    [Fact]
    public async Task FakeApiServerFieldSelectorPicksANodeInListsAndWatches()
    {
        server.Apply(Node("node-a"));
        server.Apply(Node("node-b"));

        var list = await client.CoreV1.ListNodeAsync(fieldSelector: "metadata.name=node-b", cancellationToken: guard.Token);
        Assert.Equal(["node-b"], list.Items.Select(n => n.Metadata.Name));
        Assert.Equal(("v1", "Node"), (list.Items[0].ApiVersion, list.Items[0].Kind));
        Assert.Null(list.Items[0].Metadata.NamespaceProperty);

        var response = client.CoreV1.ListNodeWithHttpMessagesAsync(
            watch: true, resourceVersion: list.Metadata.ResourceVersion, fieldSelector: "metadata.name=node-b",
            cancellationToken: guard.Token);
        await using var watch = Watch<V1Node, V1NodeList>(response);
        server.Apply(Node("node-a", "10.0.0.9"));
        server.Apply(Node("node-b", "10.0.0.2"));

        var (type, node) = await watch.NextAsync();
        Assert.Equal((WatchEventType.Modified, "node-b", "10.0.0.2"), (type, node.Metadata.Name, node.Status.Addresses[0].Address));

        var one = await client.CoreV1.ReadNodeAsync("node-a", cancellationToken: guard.Token);
        Assert.Equal("10.0.0.9", one.Status.Addresses[0].Address);
        var missing = await Assert.ThrowsAsync<HttpOperationException>(() => client.CoreV1.ReadNodeAsync("node-z", cancellationToken: guard.Token));
        Assert.Equal(404, (int)missing.Response.StatusCode);
    }

    [Fact]
    public async Task FakeApiServerLabelSelectorFiltersListsAsKubeProxyAsks()
    {
        server.Apply(Service("web", "plain"));
        server.Apply(Service("web", "headless", new() { ["service.kubernetes.io/headless"] = "" }));
        server.Apply(Service("web", "other-proxy", new() { ["service.kubernetes.io/service-proxy-name"] = "foo" }));
        server.Apply(Service("web", "front", new() { ["tier"] = "front" }));
        server.Apply(Service("web", "back", new() { ["tier"] = "back" }));

        async Task<string[]> Names(string selector) =>
            (await client.CoreV1.ListServiceForAllNamespacesAsync(labelSelector: selector, cancellationToken: guard.Token))
            .Items.Select(s => s.Metadata.Name).ToArray();

        Assert.Equal(["back", "front", "plain"], await Names("!service.kubernetes.io/service-proxy-name,!service.kubernetes.io/headless"));
        Assert.Equal(["front"], await Names("tier=front"));
        Assert.Equal(["front"], await Names("tier==front"));
        Assert.Equal(["back", "headless", "other-proxy", "plain"], await Names("tier!=front"));
        Assert.Equal(["back", "front"], await Names("tier"));
        Assert.Equal(["back", "front"], await Names("tier in (front,back)"));
        var bad = await Assert.ThrowsAsync<HttpOperationException>(() => Names("tier in front"));
        Assert.Equal(400, (int)bad.Response.StatusCode);
    }

    [Fact]
    public async Task FakeApiServerLabelSelectorWatchSeesAnObjectLeaveAndEnterTheSelection()
    {
        string start = server.Apply(Service("web", "a"));
        var response = client.CoreV1.ListServiceForAllNamespacesWithHttpMessagesAsync(
            watch: true, resourceVersion: start, labelSelector: "!service.kubernetes.io/headless", cancellationToken: guard.Token);
        await using var watch = Watch<V1Service, V1ServiceList>(response);

        string left = server.Apply(Service("web", "a", new() { ["service.kubernetes.io/headless"] = "" }));
        server.Apply(Service("web", "hidden", new() { ["service.kubernetes.io/headless"] = "" }));
        server.Apply(Service("web", "a"));

        var leave = await watch.NextAsync();
        var enter = await watch.NextAsync();
        Assert.Equal((WatchEventType.Deleted, "a", left), (leave.Type, leave.Object.Metadata.Name, leave.Object.Metadata.ResourceVersion));
        Assert.Equal((WatchEventType.Added, "a"), (enter.Type, enter.Object.Metadata.Name));
    }

    [Fact]
    public async Task FakeApiServerPagingReturnsEveryObjectOnceFromOneSnapshot()
    {
        for (int i = 0; i < 7; i++)
            server.Apply(EndpointSlice("web", $"slice-{i}"));

        var names = new List<string>();
        var versions = new HashSet<string>();
        string? token = null;
        int pages = 0;
        do
        {
            var page = await client.DiscoveryV1.ListEndpointSliceForAllNamespacesAsync(
                limit: 3, continueParameter: token, cancellationToken: guard.Token);
            Assert.Equal(("discovery.k8s.io/v1", "EndpointSliceList"), (page.ApiVersion, page.Kind));
            names.AddRange(page.Items.Select(s => s.Metadata.Name));
            versions.Add(page.Metadata.ResourceVersion);
            token = page.Metadata.ContinueProperty;
            if (pages++ == 0)
                server.Apply(EndpointSlice("web", "slice-late")); // not in the snapshot being paged
        }
        while (!string.IsNullOrEmpty(token));

        Assert.Equal(3, pages);
        Assert.Equal(Enumerable.Range(0, 7).Select(i => $"slice-{i}"), names);
        Assert.Single(versions);
        Assert.Equal(3, server.ListCount("endpointslices"));
    }

    [Fact]
    public async Task FakeApiServerEndpointsliceWatchCarriesItsGroupVersion()
    {
        await using var watch = Watch<V1EndpointSlice, V1EndpointSliceList>(
            client.DiscoveryV1.ListEndpointSliceForAllNamespacesWithHttpMessagesAsync(
                watch: true, resourceVersion: server.ResourceVersion, cancellationToken: guard.Token));
        server.Apply(EndpointSlice("web", "s"));

        var (type, slice) = await watch.NextAsync();
        Assert.Equal((WatchEventType.Added, "discovery.k8s.io/v1", "EndpointSlice", "10.1.0.1"),
            (type, slice.ApiVersion, slice.Kind, slice.Endpoints[0].Addresses[0]));
        Assert.Equal("web-svc", slice.Metadata.Labels["kubernetes.io/service-name"]);
    }

    [Fact]
    public async Task FakeApiServerInjectedFailuresAnswerTheNextRequestsWithThatStatus()
    {
        server.FailNextRequests(2, 503);

        for (int i = 0; i < 2; i++)
        {
            var failure = await Assert.ThrowsAsync<HttpOperationException>(() =>
                client.CoreV1.ListServiceForAllNamespacesAsync(cancellationToken: guard.Token));
            Assert.Equal(503, (int)failure.Response.StatusCode);
            Assert.Contains("\"kind\":\"Status\"", failure.Response.Content);
        }
        var list = await client.CoreV1.ListServiceForAllNamespacesAsync(cancellationToken: guard.Token);

        Assert.Empty(list.Items);
        Assert.Equal(3, server.ListCount("services"));
        Assert.Equal(3, server.RequestLog.Count(r => r.StartsWith("GET /api/v1/services", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task FakeApiServerUnknownPathIs404WithAStatus()
    {
        using var http = new HttpClient { BaseAddress = server.BaseAddress };
        using var response = await http.GetAsync("/api/v1/pods", guard.Token);
        string body = await response.Content.ReadAsStringAsync(guard.Token);

        Assert.Equal(404, (int)response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("\"reason\":\"NotFound\"", body);
    }

    [Fact]
    public void FakeApiServerInANetnsIsReachableThereAndNotFromTheHost()
    {
        using var netns = new TestNetns("xdplb-fakeapi-test");
        using var inside = FakeApiServer.Start(netns: netns.Name);
        string marker = $"svc-{Guid.NewGuid():N}"[..20];
        inside.Apply(Service("web", marker));
        string url = $"http://127.0.0.1:{inside.Port}/api/v1/services";

        var (insideExit, insideOutput) = TestNetns.Run("ip", "netns", "exec", netns.Name, "curl", "-s", "--max-time", "10", url);
        var (hostExit, hostOutput) = TestNetns.Run("curl", "-s", "--max-time", "10", url);

        Assert.Equal(0, insideExit);
        Assert.Contains(marker, insideOutput);
        Assert.NotEqual(0, hostExit);
        Assert.DoesNotContain(marker, hostOutput);
    }

    private WatchReader<V1Service> WatchServices(string rv, bool bookmarks = true, int? timeoutSeconds = null) =>
        Watch<V1Service, V1ServiceList>(client.CoreV1.ListServiceForAllNamespacesWithHttpMessagesAsync(
            watch: true, resourceVersion: rv, allowWatchBookmarks: bookmarks, timeoutSeconds: timeoutSeconds,
            cancellationToken: guard.Token));

    // The Kubernetes source watches this way (a list call with watch=true, then WatchAsync), so the
    // tests do too, although KubernetesClient marks WatchAsync obsolete.
#pragma warning disable CS0618
    private WatchReader<T> Watch<T, TList>(Task<HttpOperationResponse<TList>> response) =>
        new(onError => response.WatchAsync<T, TList>(onError, guard.Token), guard.Token);
#pragma warning restore CS0618

    private static V1Service Service(string ns, string name, Dictionary<string, string>? labels = null) => new()
    {
        Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = ns, Labels = labels },
        Spec = new V1ServiceSpec
        {
            ClusterIP = "10.96.0.10",
            Ports = [new V1ServicePort { Name = "http", Port = 8080, Protocol = "TCP" }],
        },
    };

    private static V1EndpointSlice EndpointSlice(string ns, string name) => new()
    {
        Metadata = new V1ObjectMeta
        {
            Name = name,
            NamespaceProperty = ns,
            Labels = new Dictionary<string, string> { ["kubernetes.io/service-name"] = "web-svc" },
        },
        AddressType = "IPv4",
        Endpoints = [new V1Endpoint { Addresses = ["10.1.0.1"], Conditions = new V1EndpointConditions { Ready = true } }],
        Ports = [new Discoveryv1EndpointPort { Name = "http", Port = 8080, Protocol = "TCP" }],
    };

    private static V1Node Node(string name, string address = "10.0.0.1") => new()
    {
        Metadata = new V1ObjectMeta { Name = name },
        Status = new V1NodeStatus { Addresses = [new V1NodeAddress { Type = "InternalIP", Address = address }] },
    };

    /// <summary>Reads a KubernetesClient watch one event at a time, collecting what it reports through onError.</summary>
    private sealed class WatchReader<T> : IAsyncDisposable
    {
        private readonly IAsyncEnumerator<(WatchEventType, T)> events;

        public WatchReader(Func<Action<Exception>, IAsyncEnumerable<(WatchEventType, T)>> open, CancellationToken ct) =>
            events = open(Errors.Enqueue).GetAsyncEnumerator(ct);

        public ConcurrentQueue<Exception> Errors { get; } = new();

        public async Task<(WatchEventType Type, T Object)> NextAsync()
        {
            Assert.True(await events.MoveNextAsync(), "the watch ended early");
            return events.Current;
        }

        public async Task<bool> EndedAsync() => !await events.MoveNextAsync();

        public ValueTask DisposeAsync() => events.DisposeAsync();

    }

    /// <summary>A network namespace of the test's own with loopback up, deleted on dispose.</summary>
    private sealed class TestNetns : IDisposable
    {
        public TestNetns(string name)
        {
            Name = name;
            Run("ip", "netns", "del", name); // a leftover of an interrupted run
            Require(Run("ip", "netns", "add", name));
            Require(Run("ip", "-n", name, "link", "set", "lo", "up"));
        }

        public string Name { get; }

        public void Dispose() => Run("ip", "netns", "del", Name);

        public static (int ExitCode, string Output) Run(string file, params string[] args)
        {
            var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var a in args)
                psi.ArgumentList.Add(a);
            using var p = Process.Start(psi)!;
            var stderr = p.StandardError.ReadToEndAsync();
            string output = p.StandardOutput.ReadToEnd();
            p.WaitForExit();
            return (p.ExitCode, output + stderr.Result);
        }

        private static void Require((int ExitCode, string Output) result) =>
            Assert.True(result.ExitCode == 0, result.Output);
    }
}
