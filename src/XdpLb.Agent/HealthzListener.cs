using Microsoft.Extensions.Logging;
using XdpLb.Core.Logging;
using System.Net;
using System.Net.Sockets;
using XdpLb.Kubernetes;

namespace XdpLb.Agent;

/// <summary>
/// kube-proxy's healthz server on --healthz-address. While kube-proxy still runs during a
/// takeover it holds the same port: rather than fail, the agent retries every 5 s and serves
/// as soon as the port is free. That is also why it is a listener of its own and not an endpoint
/// of the agent's Kestrel host, which binds all its endpoints at start and fails if one is taken.
/// </summary>
internal sealed class HealthzListener : IDisposable
{
    private readonly IPEndPoint address;
    private readonly ProxyHealth health;
    private readonly Timer retry;
    private readonly object gate = new();
    private ProxyHealthServer? server;
    private bool disposed;
    private bool warned;

    private readonly ILogger log;

    public HealthzListener(IPEndPoint address, ProxyHealth health, ILogger log)
    {
        this.log = log;
        this.address = address;
        this.health = health;
        retry = new Timer(_ => TryStart(), null, Timeout.Infinite, Timeout.Infinite);
        TryStart();
    }

    private void TryStart()
    {
        lock (gate)
        {
            if (disposed || server is not null)
                return;
            try
            {
                server = ProxyHealthServer.Start(address, health, () => DateTime.UtcNow);
                log.Info("kubernetes: healthz serving", ("address", server.LocalEndPoint));
            }
            catch (SocketException e)
            {
                if (!warned)
                    log.Warn("kubernetes: healthz address not available yet (kube-proxy still running?); retrying every 5 s",
                        ("address", address), ("error", e.Message));
                warned = true;
                retry.Change(TimeSpan.FromSeconds(5), Timeout.InfiniteTimeSpan);
            }
        }
    }

    public void Dispose()
    {
        lock (gate)
        {
            disposed = true;
            retry.Dispose();
            server?.Dispose();
        }
    }
}
