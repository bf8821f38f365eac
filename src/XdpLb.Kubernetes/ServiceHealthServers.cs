using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;

namespace XdpLb.Kubernetes;

/// <summary>
/// kube-proxy's healthCheckNodePort responders for externalTrafficPolicy: Local Services: one
/// listener per Service (per bind address), answering any request with the node's local endpoint
/// count, 200 when there is at least one and the proxy is healthy, 503 otherwise, so an external
/// load balancer sends traffic only to nodes that can serve it locally.
/// </summary>
public sealed class ServiceHealthServers : IDisposable
{
    private readonly Func<bool> _proxyHealthy;
    private readonly IReadOnlyList<IPAddress> _bindAddresses;
    private readonly HttpLimits? _limits;
    private readonly Lock _lock = new();
    private readonly Dictionary<ServiceName, Instance> _open = [];

    /// <param name="proxyHealthy">The proxy's own health (<see cref="ProxyHealth.IsHealthy"/> at the current time).</param>
    /// <param name="bindAddresses">The node addresses to listen on (kube-proxy uses those matching nodePortAddresses); null or empty: every address.</param>
    public ServiceHealthServers(Func<bool> proxyHealthy, IReadOnlyList<IPAddress>? bindAddresses = null)
        : this(proxyHealthy, bindAddresses, limits: null)
    {
    }

    internal ServiceHealthServers(Func<bool> proxyHealthy, IReadOnlyList<IPAddress>? bindAddresses, HttpLimits? limits)
    {
        ArgumentNullException.ThrowIfNull(proxyHealthy);
        _proxyHealthy = proxyHealthy;
        _bindAddresses = bindAddresses is { Count: > 0 } ? [.. bindAddresses] : [IPAddress.Any];
        _limits = limits;
    }

    /// <summary>The Services being answered for, and their ports.</summary>
    public IReadOnlyDictionary<ServiceName, ushort> OpenPorts
    {
        get
        {
            lock (_lock)
                return _open.ToDictionary(e => e.Key, e => e.Value.Port);
        }
    }

    /// <summary>
    /// Makes <paramref name="wanted"/> the set answered for: closes the ports of Services gone or
    /// moved to another port, opens new ones, updates endpoint counts in place. A port that cannot
    /// be opened is returned and left out (so the next call retries it); the others go on.
    /// </summary>
    public IReadOnlyList<ServiceHealthFailure> Sync(IReadOnlyDictionary<ServiceName, ServiceHealth> wanted)
    {
        ArgumentNullException.ThrowIfNull(wanted);
        var failures = new List<ServiceHealthFailure>();
        lock (_lock)
        {
            foreach (var (name, instance) in _open.ToList())
            {
                if (!wanted.TryGetValue(name, out var health) || health.HealthCheckNodePort != instance.Port)
                {
                    instance.Dispose();
                    _open.Remove(name);
                }
            }
            foreach (var (name, health) in wanted)
            {
                if (_open.TryGetValue(name, out var existing))
                {
                    existing.LocalEndpoints = health.LocalEndpoints;
                    continue;
                }
                if (health.HealthCheckNodePort == 0)
                {
                    failures.Add(new ServiceHealthFailure(name, 0, "no healthCheckNodePort"));
                    continue;
                }
                var instance = new Instance(name, health.HealthCheckNodePort) { LocalEndpoints = health.LocalEndpoints };
                if (Open(instance) is { } reason)
                {
                    instance.Dispose();
                    failures.Add(new ServiceHealthFailure(name, health.HealthCheckNodePort, reason));
                    continue;
                }
                _open.Add(name, instance);
            }
        }
        return failures;
    }

    /// <summary>Listens on every bind address; the reason it could not, or null.</summary>
    private string? Open(Instance instance)
    {
        foreach (var address in _bindAddresses)
        {
            var endpoint = new IPEndPoint(address, instance.Port);
            try
            {
                instance.Servers.Add(MiniHttpServer.Start(endpoint, _ => Answer(instance), _limits));
            }
            catch (SocketException e)
            {
                return $"cannot listen on {endpoint}: {e.Message}";
            }
        }
        return null;
    }

    private HttpReply Answer(Instance instance)
    {
        // A request racing with the Service's removal reads a closed instance as no endpoints.
        int count = instance.Closed ? 0 : instance.LocalEndpoints;
        bool proxyHealthy = _proxyHealthy();
        string body = string.Create(CultureInfo.InvariantCulture,
            $"{{\n\t\"service\": {{\n\t\t\"namespace\": {JsonSerializer.Serialize(instance.Service.Namespace)},\n\t\t\"name\": {JsonSerializer.Serialize(instance.Service.Name)}\n\t}},\n\t\"localEndpoints\": {count},\n\t\"serviceProxyHealthy\": {(proxyHealthy ? "true" : "false")}\n}}");
        return HttpReply.Json(count > 0 && proxyHealthy ? 200 : 503, body);
    }

    public void Dispose()
    {
        lock (_lock)
        {
            foreach (var instance in _open.Values)
                instance.Dispose();
            _open.Clear();
        }
    }

    private sealed class Instance(ServiceName service, ushort port) : IDisposable
    {
        private volatile int _localEndpoints;
        private volatile bool _closed;

        public ServiceName Service { get; } = service;
        public ushort Port { get; } = port;
        public List<MiniHttpServer> Servers { get; } = [];
        public bool Closed => _closed;

        public int LocalEndpoints
        {
            get => _localEndpoints;
            set => _localEndpoints = value;
        }

        public void Dispose()
        {
            _closed = true;
            foreach (var server in Servers)
                server.Dispose();
        }
    }
}
