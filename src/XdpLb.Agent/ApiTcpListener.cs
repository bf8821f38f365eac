using Microsoft.Extensions.Logging;
using XdpLb.Core.Logging;
using System.Net;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace XdpLb.Agent;

/// <summary>
/// The API's optional TCP listener (--api-listen), beside the unix socket: HTTP/2 with mutual
/// TLS, or plaintext h2c only when --insecure-api says so explicitly.
/// </summary>
internal sealed class ApiTcpListener
{
    private ApiTcpListener(IPEndPoint endpoint, ApiTls? tls)
    {
        Endpoint = endpoint;
        Tls = tls;
    }

    public IPEndPoint Endpoint { get; }

    /// <summary>Null: plaintext (--insecure-api).</summary>
    public ApiTls? Tls { get; }

    /// <summary>The listener the flags ask for (null: none), its certificates loaded and checked; a usage error for any combination that does not make sense.</summary>
    public static ApiTcpListener? FromFlags(IPEndPoint? listen, string? cert, string? key, string? clientCa, bool insecure)
    {
        bool anyTlsFlag = (cert ?? key ?? clientCa) is not null;
        if (listen is null)
        {
            if (insecure)
                throw new UsageException("--insecure-api goes with --api-listen ADDR:PORT");
            if (anyTlsFlag)
                throw new UsageException("--api-cert, --api-key and --api-client-ca go with --api-listen ADDR:PORT");
            return null;
        }
        if (insecure)
        {
            if (anyTlsFlag)
                throw new UsageException("--insecure-api serves the API without TLS: it does not go with --api-cert, --api-key or --api-client-ca");
            return new ApiTcpListener(listen, tls: null);
        }
        if (cert is null || key is null || clientCa is null)
        {
            var missing = new[] { ("--api-cert", cert), ("--api-key", key), ("--api-client-ca", clientCa) }.Where(f => f.Item2 is null).Select(f => f.Item1);
            throw new UsageException($"--api-listen {listen} needs TLS with client certificates: {string.Join(", ", missing)} missing " +
                "(--api-cert FILE --api-key FILE --api-client-ca FILE; or --insecure-api to serve the API unauthenticated in plaintext)");
        }
        return new ApiTcpListener(listen, ApiTls.Load(cert, key, clientCa));
    }

    public void Listen(KestrelServerOptions kestrel, ILogger log)
    {
        if (Tls is null)
            log.Warn("--insecure-api: the API listens on TCP in plaintext, without authentication: whoever reaches it controls the load balancer",
                ("api_listen", Endpoint));
        kestrel.Listen(Endpoint, o =>
        {
            o.Protocols = HttpProtocols.Http2;
            if (Tls is not null)
                o.UseHttps(Tls.ConnectionOptions());
        });
    }
}
