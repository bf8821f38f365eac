using System.Collections.Concurrent;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

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

    public async Task HandleAsync(HttpContext context)
    {
        // The target as sent: Kestrel's Path is decoded by its own rules, the fake reads it as Go does.
        string target = context.Features.GetRequiredFeature<IHttpRequestFeature>().RawTarget;
        string method = context.Request.Method;
        lock (requestLog)
            requestLog.Add($"{method} {target}");

        ApiRequest? api = null;
        string? invalid = null;
        var request = RequestTarget.Parse(target);
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
            await RespondAsync(status, ApiStatus.ForInjectedFailure(status)).ConfigureAwait(false);
        else if (method != "GET")
            await RespondAsync(405, ApiStatus.Json(405, "MethodNotAllowed", $"the fake serves only GET, not {method}")).ConfigureAwait(false);
        else if (invalid is not null)
            await RespondAsync(400, ApiStatus.BadRequest(invalid)).ConfigureAwait(false);
        else if (api is null)
            await RespondAsync(404, ApiStatus.NotFound($"the path {request.Path}")).ConfigureAwait(false);
        else if (api.Name is { } name)
        {
            var obj = store.Get(api.Type, api.Namespace ?? "", name);
            await (obj is null
                ? RespondAsync(404, ApiStatus.NotFound($"{api.Type.Plural} \"{name}\""))
                : RespondAsync(200, obj.Json)).ConfigureAwait(false);
        }
        else if (api.Watch)
            await watches.ServeAsync(context, api).ConfigureAwait(false);
        else
        {
            var (listStatus, body) = lists.List(api);
            await RespondAsync(listStatus, body).ConfigureAwait(false);
        }

        Task RespondAsync(int code, string json)
        {
            byte[] bytes = Encoding.UTF8.GetBytes(json);
            context.Response.StatusCode = code;
            context.Response.ContentType = "application/json";
            context.Response.ContentLength = bytes.Length;
            return context.Response.Body.WriteAsync(bytes, context.RequestAborted).AsTask();
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
