using XdpLb.FakeKubeApi.Http;

namespace XdpLb.FakeKubeApi;

/// <summary>
/// Serves a watch: a 200 with a chunked body carrying one JSON event per line, until the watch
/// times out (clean end), is expired by a compaction (ERROR event, clean end) or is dropped
/// (connection cut mid-body).
/// </summary>
internal sealed class WatchStreamer(ObjectStore store)
{
    /// <param name="abortConnection">cuts the connection at once, without ending the body</param>
    public async Task ServeAsync(Stream stream, ApiRequest request, Action abortConnection, CancellationToken serverStopping)
    {
        var watch = new WatchSubscription(request.Type, request.Namespace, request.Fields, request.Labels, request.AllowBookmarks);
        long? from = request.StartVersion;
        var body = await HttpResponseWriter.StartChunkedAsync(stream, serverStopping).ConfigureAwait(false);

        // Like the real server, a watch from a compacted version is accepted and then told so.
        if (!store.StartWatch(watch, from))
        {
            string tooOld = ApiStatus.TooOld(from ?? 0, store.CompactedBelow);
            await body.WriteChunkAsync(ObjectJson.EventLine("ERROR", tooOld), serverStopping).ConfigureAwait(false);
            await body.EndAsync(serverStopping).ConfigureAwait(false);
            return;
        }

        using var dropRegistration = watch.Dropped.Register(abortConnection);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(serverStopping);
        if (request.TimeoutSeconds is > 0 and var seconds)
            timeout.CancelAfter(TimeSpan.FromSeconds(seconds));
        try
        {
            await foreach (var line in watch.Lines.ReadAllAsync(timeout.Token).ConfigureAwait(false))
                await body.WriteChunkAsync(line, serverStopping).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested && !serverStopping.IsCancellationRequested)
        {
            // timeoutSeconds ran out: the watch ends normally
        }
        finally
        {
            store.StopWatch(watch);
        }
        if (!watch.Dropped.IsCancellationRequested)
            await body.EndAsync(serverStopping).ConfigureAwait(false);
    }
}
