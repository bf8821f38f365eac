using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using XdpLb.Core.Logging;

namespace XdpLb.Agent;

/// <summary>
/// The API socket's place in the agent's life: put at its path once Kestrel has bound it
/// (the host starts Kestrel after the agent's own services), removed once Kestrel has
/// stopped; and the "ready" line, which tests and operators wait for.
/// </summary>
internal sealed class ApiSocketService(ApiSocketBinding socket, ForwardingService forwarding, AgentMetrics metrics, ILogger<ApiSocketService> log)
    : IHostedLifecycleService
{
    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken)
    {
        socket.Publish();
        socket.RemovePrivateDirectory();
        // Parsing a large config leaves a large heap behind; give it back before serving.
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        var options = forwarding.Options;
        log.Info("ready", ("dataplane", metrics.Dataplane), ("config", forwarding.Source.Description), ("interfaces", string.Join(",", options.Interfaces)),
            ("bpf_pin_dir", options.BpfPinDir), ("api_socket", options.ApiSocket), ("api_listen", options.ApiTcp?.Endpoint.ToString() ?? "none"),
            ("metrics", options.MetricsAddress));
        return Task.CompletedTask;
    }

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    // Stopped after Kestrel (the reverse of the start order): nothing answers on the socket any more.
    public Task StopAsync(CancellationToken cancellationToken)
    {
        File.Delete(socket.SocketPath);
        return Task.CompletedTask;
    }

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
