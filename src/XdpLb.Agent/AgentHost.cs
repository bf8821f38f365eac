using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Prometheus;
using XdpLb.Api;
using XdpLb.Api.Controller;

namespace XdpLb.Agent;

/// <summary>
/// The agent's servers: the gRPC local API on a unix socket (mode 0600; health and
/// reflection services on), optionally also on TCP (mTLS, or plaintext with --insecure-api),
/// and Prometheus metrics with /healthz and /readyz on TCP.
/// </summary>
internal sealed class AgentHost : IAsyncDisposable
{
    private readonly WebApplication app;
    private readonly string socketPath;

    private AgentHost(WebApplication app, string socketPath)
    {
        this.app = app;
        this.socketPath = socketPath;
    }

    public static async Task<AgentHost> StartAsync(string socketPath, ApiTcpListener? apiTcp, IPEndPoint metricsEndpoint, IAgentView view, DeclaredServices declared,
        AgentMetrics metrics,
        Func<bool> healthy, Func<bool> ready, ILoggerFactory loggers)
    {
        var socket = ApiSocketBinding.Prepare(Path.GetFullPath(socketPath));

        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        // One pipeline for the whole process: Kestrel's and gRPC's lines in order with the agent's.
        builder.Services.AddSingleton(loggers);
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.ListenUnixSocket(socket.BindPath, o => o.Protocols = HttpProtocols.Http2);
            apiTcp?.Listen(k, loggers.CreateLogger<ApiTcpListener>());
            k.Listen(metricsEndpoint, o => o.Protocols = HttpProtocols.Http1);
        });
        builder.Services.AddGrpc();
        builder.Services.AddGrpcReflection();
        builder.Services.AddGrpcHealthChecks().AddCheck("xdplb", () => healthy()
            ? Microsoft.Extensions.Diagnostics.HealthChecks.HealthCheckResult.Healthy()
            : Microsoft.Extensions.Diagnostics.HealthChecks.HealthCheckResult.Unhealthy("the last sync failed"));
        builder.Services.AddSingleton(view);
        builder.Services.AddSingleton(declared);

        var app = builder.Build();
        app.MapGrpcService<AgentService>();
        app.MapGrpcService<ControllerService>();
        app.MapGrpcReflectionService();
        app.MapGrpcHealthChecksService();
        app.MapMetrics("/metrics", metrics.Registry);
        app.MapGet("/healthz", () => healthy() ? Results.Text("ok\n") : Results.Text("the last sync failed\n", statusCode: 503));
        app.MapGet("/readyz", () => ready() ? Results.Text("ok\n") : Results.Text("not ready\n", statusCode: 503));
        try
        {
            await app.StartAsync();
            socket.Publish();
        }
        finally
        {
            socket.RemovePrivateDirectory();
        }
        return new AgentHost(app, socketPath);
    }

    public async ValueTask DisposeAsync()
    {
        await app.StopAsync();
        await app.DisposeAsync();
        File.Delete(socketPath);
    }
}
