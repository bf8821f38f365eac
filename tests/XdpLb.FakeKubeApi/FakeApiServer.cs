using System.Globalization;
using System.Net;
using System.Net.Sockets;
using k8s;
using k8s.Models;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;

namespace XdpLb.FakeKubeApi;

/// <summary>
/// An in-process Kubernetes API server for Services, EndpointSlices and Nodes that speaks the
/// list/watch JSON protocol over plain HTTP/1.1 (Kestrel), closely enough that KubernetesClient
/// cannot tell it from the real one. Tests change objects with <see cref="Apply"/>/<see cref="Delete{T}"/>
/// and provoke the failures a client must survive: dropped watches, compaction (410), injected errors.
/// </summary>
public sealed class FakeApiServer : IDisposable
{
    private readonly WebApplication app;
    private readonly ObjectStore store = new();
    private readonly RequestHandler handler;
    private bool disposed;

    private FakeApiServer(Socket listener)
    {
        handler = new RequestHandler(store);
        var local = (IPEndPoint)listener.LocalEndPoint!;
        Port = local.Port;
        BaseAddress = new UriBuilder("http", local.Address.ToString(), local.Port).Uri;

        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.WebHost.UseKestrelCore().ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            // Kestrel takes the socket already listening, so it may live in another network namespace.
            kestrel.ListenHandle(ListeningSocket.HandOver(listener));
        });
        app = builder.Build();
        app.Run(handler.HandleAsync);
        app.StartAsync().GetAwaiter().GetResult();
    }

    /// <param name="address">where to listen (default 127.0.0.1), on a port the kernel picks</param>
    /// <param name="netns">a network namespace in /run/netns to listen in instead of the caller's</param>
    public static FakeApiServer Start(IPAddress? address = null, string? netns = null) =>
        new(ListeningSocket.Create(new IPEndPoint(address ?? IPAddress.Loopback, 0), netns));

    public Uri BaseAddress { get; }

    public int Port { get; }

    /// <summary>Watches currently streaming.</summary>
    public int OpenWatches => store.OpenWatches;

    /// <summary>Each request's method and target (path and query), in arrival order.</summary>
    public IReadOnlyList<string> RequestLog => handler.RequestLog;

    /// <summary>The newest resourceVersion.</summary>
    public string ResourceVersion => Format(store.CurrentResourceVersion);

    /// <summary>
    /// Creates or replaces a V1Service, V1EndpointSlice or V1Node (namespace "default" when none is
    /// given) as a new resourceVersion, and tells matching watches ADDED or MODIFIED.
    /// </summary>
    /// <returns>the object's new resourceVersion</returns>
    public string Apply(IKubernetesObject<V1ObjectMeta> obj)
    {
        ArgumentNullException.ThrowIfNull(obj);
        return Format(store.Apply(obj));
    }

    /// <summary>Deletes an object and tells matching watches DELETED.</summary>
    /// <returns>the deletion's resourceVersion</returns>
    /// <exception cref="KeyNotFoundException">there is no such object</exception>
    public string Delete<T>(string? ns, string name) where T : IKubernetesObject<V1ObjectMeta> =>
        Format(store.Delete(ResourceType.ForClrType(typeof(T)), ns, name));

    /// <summary>Cuts every open watch connection mid-stream, as a network drop or an API server restart would.</summary>
    public void DropWatches() => store.DropWatches();

    /// <summary>Writes a line as it is to every open watch (an event a client cannot read, say).</summary>
    public void SendRawToWatches(string line) => store.SendRaw(line);

    /// <summary>
    /// Makes every version older than the current one too old, like etcd compaction: open watches
    /// get an ERROR event with a 410 Status and end; later lists and watches from an older version get 410.
    /// </summary>
    public void Compact() => store.Compact();

    /// <summary>Sends a BOOKMARK at the current version to every watch that allowed bookmarks.</summary>
    public void SendBookmarks() => store.SendBookmarks();

    /// <summary>The next <paramref name="count"/> requests, whatever they are, get this status and a Status body.</summary>
    public void FailNextRequests(int count, int statusCode = 500) => handler.FailNextRequests(count, statusCode);

    /// <summary>List requests (not watches, not single GETs) for "services", "endpointslices" or "nodes", injected failures included.</summary>
    public int ListCount(string resource) => handler.ListCount(resource);

    /// <summary>Watch requests for "services", "endpointslices" or "nodes", injected failures included.</summary>
    public int WatchCount(string resource) => handler.WatchCount(resource);

    public void Dispose()
    {
        if (disposed)
            return;
        disposed = true;
        store.DropWatches();
        // Cut whatever is still open at once, as a server going away would.
        app.StopAsync(new CancellationToken(canceled: true)).GetAwaiter().GetResult();
        app.DisposeAsync().AsTask().GetAwaiter().GetResult();
    }

    private static string Format(long rv) => rv.ToString(CultureInfo.InvariantCulture);
}
