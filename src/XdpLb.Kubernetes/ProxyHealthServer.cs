using System.Net;

namespace XdpLb.Kubernetes;

/// <summary>
/// kube-proxy's healthz server (healthzBindAddress, port 10256): /healthz answers 200 when the
/// proxy is healthy and the node eligible, /livez when the proxy is healthy; 503 otherwise,
/// 404 for any other path. Bodies and headers are kube-proxy's, byte for byte but the monotonic
/// clock reading Go appends to its times.
/// </summary>
public sealed class ProxyHealthServer : IDisposable
{
    private readonly MiniHttpServer _http;

    private ProxyHealthServer(MiniHttpServer http) => _http = http;

    /// <summary>The address actually bound (its port is the one chosen when asked for port 0).</summary>
    public IPEndPoint LocalEndPoint => _http.LocalEndPoint;

    /// <summary>Listens before returning: a port in use throws <see cref="System.Net.Sockets.SocketException"/>.</summary>
    public static ProxyHealthServer Start(IPEndPoint endpoint, ProxyHealth tracker, Func<DateTime> clock) =>
        Start(endpoint, tracker, clock, limits: null);

    internal static ProxyHealthServer Start(IPEndPoint endpoint, ProxyHealth tracker, Func<DateTime> clock, HttpLimits? limits)
    {
        ArgumentNullException.ThrowIfNull(tracker);
        ArgumentNullException.ThrowIfNull(clock);
        return new ProxyHealthServer(MiniHttpServer.Start(endpoint, request => Answer(request.Path, tracker, clock()), limits));
    }

    public void Dispose() => _http.Dispose();

    internal static HttpReply Answer(string path, ProxyHealth tracker, DateTime now)
    {
        if (path is not ("/healthz" or "/livez"))
            return HttpReply.NotFound;
        var status = tracker.Check(now);
        bool healthz = path == "/healthz";
        bool healthy = status.Healthy && (!healthz || status.NodeEligible);
        // kube-proxy reports the current time as lastUpdated whenever it is healthy, as its
        // older releases did (they bumped it on every sync loop even with nothing to do).
        string lastUpdated = GoTimeText.Format(healthy ? status.CurrentTime : status.LastUpdated);
        string currentTime = GoTimeText.Format(status.CurrentTime);
        string body = healthz
            ? $"{{\"lastUpdated\": \"{lastUpdated}\",\"currentTime\": \"{currentTime}\", \"nodeEligible\": {(status.NodeEligible ? "true" : "false")}}}"
            : $"{{\"lastUpdated\": \"{lastUpdated}\",\"currentTime\": \"{currentTime}\"}}";
        return HttpReply.Json(healthy ? 200 : 503, body);
    }
}
