using System.Collections.Concurrent;
using XdpLb.FakeKubeApi.Http;

namespace XdpLb.FakeKubeApi;

/// <summary>
/// Turns one HTTP request into its response: injected failures first, then routing to a list,
/// a watch or a single object. Keeps the log and the per-resource counters tests assert on.
/// </summary>
internal sealed class RequestHandler(ObjectStore store)
{
    private readonly ListResponder lists = new(store);
    private readonly WatchStreamer watches = new(store);
    private readonly ConcurrentDictionary<string, int> listCounts = new();
    private readonly ConcurrentDictionary<string, int> watchCounts = new();
    private readonly List<string> requestLog = [];
    private int failuresLeft;
    private int failureStatus = 500;

    public IReadOnlyList<string> RequestLog
    {
        get { lock (requestLog) return requestLog.ToArray(); }
    }

    public int ListCount(string resource) => listCounts.GetValueOrDefault(resource);

    public int WatchCount(string resource) => watchCounts.GetValueOrDefault(resource);

    public void FailNextRequests(int count, int statusCode)
    {
        Volatile.Write(ref failureStatus, statusCode);
        Volatile.Write(ref failuresLeft, count);
    }

    /// <returns>whether the connection may carry another request</returns>
    public async Task<bool> HandleAsync(HttpRequest request, Stream stream, Action abortConnection, CancellationToken ct)
    {
        lock (requestLog)
            requestLog.Add($"{request.Method} {request.Target}");

        ApiRequest? api = null;
        string? invalid = null;
        try
        {
            api = ApiRequest.Parse(request);
        }
        catch (FormatException e)
        {
            invalid = e.Message;
        }
        if (api is { Name: null })
            (api.Watch ? watchCounts : listCounts).AddOrUpdate(api.Type.Plural, 1, (_, n) => n + 1);

        if (TakeInjectedFailure() is { } status)
            return await RespondAsync(status, ApiStatus.ForInjectedFailure(status)).ConfigureAwait(false);
        if (request.Method != "GET")
            return await RespondAsync(405, ApiStatus.Json(405, "MethodNotAllowed", $"the fake serves only GET, not {request.Method}")).ConfigureAwait(false);
        if (invalid is not null)
            return await RespondAsync(400, ApiStatus.BadRequest(invalid)).ConfigureAwait(false);
        if (api is null)
            return await RespondAsync(404, ApiStatus.NotFound($"the path {request.Path}")).ConfigureAwait(false);

        if (api.Name is { } name)
        {
            var obj = store.Get(api.Type, api.Namespace ?? "", name);
            return obj is null
                ? await RespondAsync(404, ApiStatus.NotFound($"{api.Type.Plural} \"{name}\"")).ConfigureAwait(false)
                : await RespondAsync(200, obj.Json).ConfigureAwait(false);
        }
        if (api.Watch)
        {
            await watches.ServeAsync(stream, api, abortConnection, ct).ConfigureAwait(false);
            return false;
        }
        var (listStatus, body) = lists.List(api);
        return await RespondAsync(listStatus, body).ConfigureAwait(false);

        async Task<bool> RespondAsync(int code, string json)
        {
            await HttpResponseWriter.WriteAsync(stream, code, json, request.WantsClose, ct).ConfigureAwait(false);
            return !request.WantsClose;
        }
    }

    private int? TakeInjectedFailure()
    {
        int left;
        do
        {
            left = Volatile.Read(ref failuresLeft);
            if (left <= 0)
                return null;
        }
        while (Interlocked.CompareExchange(ref failuresLeft, left - 1, left) != left);
        return Volatile.Read(ref failureStatus);
    }
}
