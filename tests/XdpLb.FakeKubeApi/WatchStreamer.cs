using Microsoft.AspNetCore.Http;

namespace XdpLb.FakeKubeApi;

/// <summary>
/// Serves a watch: a 200 with a chunked body carrying one JSON event per line, until the watch
/// times out (clean end), is expired by a compaction (ERROR event, clean end) or is dropped
/// (connection cut mid-body).
/// </summary>
internal sealed class WatchStreamer(ObjectStore store)
{
    public async Task ServeAsync(HttpContext context, ApiRequest request)
    {
        var watch = new WatchSubscription(request.Type, request.Namespace, request.Fields, request.Labels, request.AllowBookmarks);
        long? from = request.StartVersion;
        var response = context.Response;
        // The client went away, or the server is stopping (Kestrel aborts every request then).
        var aborted = context.RequestAborted;
        // No Content-Length: Kestrel sends the body chunked, one chunk per flushed write.
        response.StatusCode = 200;
        response.ContentType = "application/json";
        response.Headers.Connection = "close";
        await response.StartAsync(aborted).ConfigureAwait(false);

        // Like the real server, a watch from a compacted version is accepted and then told so.
        if (!store.StartWatch(watch, from))
        {
            await WriteChunkAsync(ObjectJson.EventLine("ERROR", ApiStatus.TooOld(from ?? 0, store.CompactedBelow))).ConfigureAwait(false);
            return;
        }

        // Abort cuts the connection without the body's last chunk: the client sees it broken, not finished.
        using var dropRegistration = watch.Dropped.Register(context.Abort);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(aborted);
        if (request.TimeoutSeconds is > 0 and var seconds)
            timeout.CancelAfter(TimeSpan.FromSeconds(seconds));
        try
        {
            await foreach (var line in watch.Lines.ReadAllAsync(timeout.Token).ConfigureAwait(false))
                await WriteChunkAsync(line).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested && !aborted.IsCancellationRequested)
        {
            // timeoutSeconds ran out: the watch ends normally
        }
        finally
        {
            store.StopWatch(watch);
        }
        // Returning ends the body with its last chunk, unless the connection was cut.

        async Task WriteChunkAsync(string line)
        {
            await response.WriteAsync(line, aborted).ConfigureAwait(false);
            await response.Body.FlushAsync(aborted).ConfigureAwait(false);
        }
    }
}
