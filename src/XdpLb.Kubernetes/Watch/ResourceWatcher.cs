using k8s;
using k8s.Autorest;
using k8s.Models;
using Microsoft.Extensions.Logging;
using XdpLb.Core.Logging;

namespace XdpLb.Kubernetes.Watch;

/// <summary>
/// client-go's reflector for one resource: list, then watch from the list's resourceVersion,
/// keeping the newest version seen (bookmarks included) so a dropped watch resumes where it
/// was; 410 Gone (the version was compacted away) re-lists; other failures reconnect with
/// backoff. The store always holds a consistent view: the last list plus the events since.
/// </summary>
public sealed class ResourceWatcher<T> where T : class, IKubernetesObject<V1ObjectMeta>
{
    public delegate Task<(IList<T> Items, string? ResourceVersion)> ListCall(CancellationToken cancel);
    public delegate IAsyncEnumerable<(WatchEventType Type, T Object)> WatchCall(string resourceVersion, Action<Exception> onError, CancellationToken cancel);

    private readonly string resource;
    private readonly ListCall list;
    private readonly WatchCall watch;
    private readonly ObjectStore<T> store;
    private readonly ILogger log;
    private readonly Backoff backoff;
    private readonly TaskCompletionSource synced = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public ResourceWatcher(string resource, ListCall list, WatchCall watch, ObjectStore<T> store, ILogger log, Backoff? backoff = null)
    {
        this.resource = resource;
        this.list = list;
        this.watch = watch;
        this.store = store;
        this.log = log;
        this.backoff = backoff ?? new Backoff(TimeSpan.FromMilliseconds(800), TimeSpan.FromSeconds(30));
    }

    /// <summary>Completes after the first list has filled the store.</summary>
    public Task Synced => synced.Task;

    public string? ResourceVersion { get; private set; }
    private DateTime lastList = DateTime.MinValue;
    public int Lists { get; private set; }

    public async Task RunAsync(CancellationToken cancel)
    {
        while (!cancel.IsCancellationRequested)
        {
            try
            {
                if (ResourceVersion is null)
                    await ListAsync(cancel);
                await WatchAsync(cancel);
            }
            catch (OperationCanceledException) when (cancel.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (IsGone(e) || e is LostEventException)
            {
                log.Warn(e is LostEventException ? "kubernetes: a watch event could not be read, re-listing" : "kubernetes: resourceVersion too old, re-listing",
                    ("resource", resource), ("resource_version", ResourceVersion), ("error", Describe(e)));
                ResourceVersion = null;
                // client-go backs off between re-lists too: a server that keeps answering 410
                // must not be listed in a tight loop.
                if (DateTime.UtcNow - lastList < TimeSpan.FromSeconds(1))
                {
                    try
                    {
                        await Task.Delay(backoff.Next(), cancel);
                    }
                    catch (OperationCanceledException)
                    {
                        return;
                    }
                }
            }
            catch (Exception e)
            {
                var delay = backoff.Next();
                log.Warn("kubernetes: list/watch failed, retrying", ("resource", resource), ("error", Describe(e)),
                    ("retry_in_seconds", delay.TotalSeconds.ToString("F1")));
                try
                {
                    await Task.Delay(delay, cancel);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    private async Task ListAsync(CancellationToken cancel)
    {
        lastList = DateTime.UtcNow;
        var (items, version) = await list(cancel);
        store.Replace(items);
        ResourceVersion = version ?? "";
        Lists++;
        backoff.Reset();
        log.Info("kubernetes: listed", ("resource", resource), ("items", items.Count), ("resource_version", version));
        synced.TrySetResult();
    }

    private async Task WatchAsync(CancellationToken cancel)
    {
        Exception? failure = null;
        var started = DateTime.UtcNow;
        int events = 0;
        await foreach (var (type, item) in Readable(watch(ResourceVersion!, e => failure ??= e, cancel)))
        {
            // An event that could not be read is lost: resuming after the next one would leave
            // the store wrong for good, so the store is listed again.
            if (failure is not null and not KubernetesException)
                throw new LostEventException(failure);
            events++;
            switch (type)
            {
                case WatchEventType.Added:
                case WatchEventType.Modified:
                    store.Upsert(item);
                    break;
                case WatchEventType.Deleted:
                    store.Remove(item);
                    break;
            }
            if (item?.Metadata?.ResourceVersion is { Length: > 0 } version)
                ResourceVersion = version;
            backoff.Reset();
        }
        if (failure is not null)
            throw failure is KubernetesException ? failure : new LostEventException(failure);
        // A watch the server ends at once, again and again, must not become a busy loop.
        if (events == 0 && DateTime.UtcNow - started < TimeSpan.FromSeconds(1))
            throw new IOException("the watch ended at once");
    }

    // Some client versions throw on a line that is not JSON instead of reporting it.
    private static async IAsyncEnumerable<(WatchEventType Type, T Object)> Readable(IAsyncEnumerable<(WatchEventType Type, T Object)> events)
    {
        await using var e = events.GetAsyncEnumerator();
        while (true)
        {
            try
            {
                if (!await e.MoveNextAsync())
                    yield break;
            }
            catch (System.Text.Json.JsonException json)
            {
                throw new LostEventException(json);
            }
            yield return e.Current;
        }
    }

    private sealed class LostEventException(Exception cause) : Exception($"watch event: {cause.Message}", cause);

    private static bool IsGone(Exception e) => e switch
    {
        KubernetesException k => k.Status?.Code == 410,
        HttpOperationException h => (int?)h.Response?.StatusCode == 410,
        _ => false,
    };

    private static string Describe(Exception e) => e switch
    {
        HttpOperationException h => $"HTTP {(int?)h.Response?.StatusCode}: {h.Response?.Content ?? h.Message}",
        KubernetesException k => $"{k.Status?.Code} {k.Status?.Reason}: {k.Status?.Message}",
        _ => e.Message,
    };
}
