using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Prometheus;
using XdpLb.Api;
using XdpLb.Api.Controller;

namespace XdpLb.Agent;

/// <summary>
/// `xdplb run` as a host: the forwarding, its sync loop and sweeps as hosted services, then
/// Kestrel with the gRPC API on a unix socket (mode 0600; health and reflection on), optionally
/// also on TCP (mTLS, or plaintext with --insecure-api), and Prometheus metrics with /healthz
/// and /readyz. SIGINT/SIGTERM stop the host, which stops the services in reverse order.
/// </summary>
internal static class AgentApp
{
    public static async Task<int> RunAsync(RunOptions options, ILoggerFactory loggers)
    {
        NodeChecks.Check(options);
        var socket = ApiSocketBinding.Prepare(Path.GetFullPath(options.ApiSocket));
        try
        {
            await using var app = Build(options, socket, loggers);
            await app.RunAsync();
        }
        finally
        {
            socket.RemovePrivateDirectory();
        }
        return 0;
    }

    private static WebApplication Build(RunOptions options, ApiSocketBinding socket, ILoggerFactory loggers)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        // One pipeline for the whole process: Kestrel's and gRPC's lines in order with the agent's.
        builder.Services.AddSingleton(loggers);
        builder.Services.Configure<ConsoleLifetimeOptions>(o => o.SuppressStatusMessages = true);
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.ListenUnixSocket(socket.BindPath, o => o.Protocols = HttpProtocols.Http2);
            options.ApiTcp?.Listen(k, loggers.CreateLogger<ApiTcpListener>());
            k.Listen(options.MetricsAddress, o => o.Protocols = HttpProtocols.Http1);
        });

        var metrics = new AgentMetrics();
        builder.Services.AddSingleton(options);
        builder.Services.AddSingleton(metrics);
        builder.Services.AddSingleton(socket);
        // Started in this order, before Kestrel; stopped in the reverse order, after it.
        builder.Services.AddSingleton<ForwardingService>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<ForwardingService>());
        builder.Services.AddHostedService<SyncLoopService>();
        builder.Services.AddHostedService<SweepService>();
        builder.Services.AddHostedService<ApiSocketService>();

        builder.Services.AddSingleton(sp => sp.GetRequiredService<ForwardingService>().Forwarder.View);
        builder.Services.AddSingleton(sp => sp.GetRequiredService<ForwardingService>().Source.Declared);
        builder.Services.AddGrpc();
        builder.Services.AddGrpcReflection();
        builder.Services.AddGrpcHealthChecks().AddCheck<SyncHealthCheck>("xdplb");

        var app = builder.Build();
        var forwarding = app.Services.GetRequiredService<ForwardingService>();
        bool Healthy() => forwarding.Forwarder.SyncLoop.LastSyncSucceeded;
        app.MapGrpcService<AgentService>();
        app.MapGrpcService<ControllerService>();
        app.MapGrpcReflectionService();
        app.MapGrpcHealthChecksService();
        app.MapMetrics("/metrics", metrics.Registry);
        app.MapGet("/healthz", () => Healthy() ? Results.Text("ok\n") : Results.Text("the last sync failed\n", statusCode: 503));
        app.MapGet("/readyz", () => Results.Text("ok\n"));
        return app;
    }

    /// <summary>gRPC health: unhealthy while the last sync failed, as /healthz.</summary>
    private sealed class SyncHealthCheck(ForwardingService forwarding) : IHealthCheck
    {
        public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
            Task.FromResult(forwarding.Forwarder.SyncLoop.LastSyncSucceeded ? HealthCheckResult.Healthy() : HealthCheckResult.Unhealthy("the last sync failed"));
    }
}
