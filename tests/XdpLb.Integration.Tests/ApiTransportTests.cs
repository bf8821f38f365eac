using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using Grpc.Core;
using Grpc.Net.Client;
using XdpLb.Api.V1;

namespace XdpLb.Integration.Tests;

/// <summary>
/// The API's transports: the unix socket (0600, root's), the TCP listener with mutual TLS, and
/// plaintext TCP only with --insecure-api. Clients run in this process, their sockets made in
/// the lb namespace, where the agent listens on loopback.
/// </summary>
public sealed class ApiTransportTests : IDisposable
{
    private static readonly IPEndPoint Listen = new(IPAddress.Loopback, 9470);

    private readonly string configFile = Path.GetTempFileName();
    private readonly string pkiDir = Directory.CreateTempSubdirectory("xdplb-pki-").FullName;
    private readonly X509Certificate2 ca = TestCertificates.CreateCa("xdplb test api CA");
    private readonly X509Certificate2 otherCa = TestCertificates.CreateCa("unrelated CA");
    private readonly string serverCert, serverKey, caFile;

    private const string Config = """
        services:
          - {name: web, address: 10.96.0.10, port: 80, backends: [{address: 10.0.11.2, port: 8080}]}
        """;

    public ApiTransportTests()
    {
        File.WriteAllText(configFile, Config);
        serverCert = TestCertificates.WritePem(pkiDir, "server", TestCertificates.IssueServer(ca, Listen.Address));
        serverKey = Path.Combine(pkiDir, "server.key");
        caFile = TestCertificates.WritePem(pkiDir, "ca", ca);
    }

    private string[] TlsFlags => ["--api-listen", Listen.ToString(), "--api-cert", serverCert, "--api-key", serverKey, "--api-client-ca", caFile];

    [Fact]
    public void MutualTlsAdmitsAClientCertificateOfTheClientCaAndNothingElse()
    {
        using var topology = new NetnsTopology();
        using var agent = AgentProcess.Start(topology.Lb, topology.AgentArgs(configFile, TlsFlags));
        var good = TestCertificates.IssueClient(ca, "controller-a");
        var foreign = TestCertificates.IssueClient(otherCa, "controller-b");

        var status = GetStatusOverTls(topology.Lb, good, trustedServerCa: ca);
        Grpc.Health.V1.HealthCheckResponse health;
        using (var channel = TlsChannel(topology.Lb, good, trustedServerCa: ca))
            health = new Grpc.Health.V1.Health.HealthClient(channel).Check(new Grpc.Health.V1.HealthCheckRequest(), deadline: DateTime.UtcNow.AddSeconds(30));
        var noCertificate = Assert.ThrowsAny<Exception>(() => GetStatusOverTls(topology.Lb, clientCertificate: null, trustedServerCa: ca));
        var foreignCertificate = Assert.ThrowsAny<Exception>(() => GetStatusOverTls(topology.Lb, foreign, trustedServerCa: ca));
        bool serverChecked = false;
        var untrustedServer = Assert.ThrowsAny<Exception>(() => GetStatusOverTls(topology.Lb, good, trustedServerCa: otherCa, () => serverChecked = true));

        Assert.Equal(1u, status.Services);
        Assert.Equal(configFile, status.ConfigFile);
        Assert.Equal(Grpc.Health.V1.HealthCheckResponse.Types.ServingStatus.Serving, health.Status);
        AssertTheAgentRefusedTheClient(noCertificate);
        AssertTheAgentRefusedTheClient(foreignCertificate);
        AssertTheClientRefusedTheAgent(untrustedServer);
        Assert.True(serverChecked);
        // The unix socket is served beside the TCP listener.
        Assert.Equal(1u, GetStatusOverUnixSocket(topology.Home.ApiSocket).Services);
    }

    [Fact]
    public void InsecureApiServesPlaintextAndWarns()
    {
        using var topology = new NetnsTopology();
        using var agent = AgentProcess.Start(topology.Lb, topology.AgentArgs(configFile, "--api-listen", Listen.ToString(), "--insecure-api"));

        var handler = new SocketsHttpHandler { ConnectCallback = (_, cancel) => ConnectInNetns(topology.Lb, cancel) };
        using var channel = GrpcChannel.ForAddress($"http://{Listen}", new GrpcChannelOptions { HttpHandler = handler });
        var status = new Agent.AgentClient(channel).GetStatus(new GetStatusRequest(), deadline: DateTime.UtcNow.AddSeconds(30));

        Assert.Equal(1u, status.Services);
        Assert.Contains(agent.Log.Split('\n'), l => l.Contains("level=warn") && l.Contains("--insecure-api") && l.Contains("plaintext") && l.Contains($"api_listen={Listen}"));
        Assert.Equal(1u, GetStatusOverUnixSocket(topology.Home.ApiSocket).Services);
    }

    [Fact]
    public void TheUnixSocketIsRootsWithMode0600AndNothingIsLeftBesideIt()
    {
        using var topology = new NetnsTopology();
        using var agent = AgentProcess.Start(topology.Lb, topology.AgentArgs(configFile));

        var stat = Shell.Run("stat", ["-c", "%F %a %u %g", topology.Home.ApiSocket], TimeSpan.FromSeconds(10));
        var beside = Directory.GetFileSystemEntries(Path.GetDirectoryName(topology.Home.ApiSocket)!).Select(Path.GetFileName).Order();

        Assert.Equal("socket 600 0 0", stat.Stdout.Trim());
        Assert.Equal(["bpf", "state", "xdplb.sock"], beside);
        Assert.Equal(1u, GetStatusOverUnixSocket(topology.Home.ApiSocket).Services);
    }

    [Fact]
    public async Task ReflectionListsTheApisAndHealthOverTheUnixSocket()
    {
        using var topology = new NetnsTopology();
        File.WriteAllText(configFile, "services: []\n");
        using var agent = AgentProcess.Start(topology.Lb, topology.AgentArgs(configFile));
        using var channel = XdpLb.Api.UnixSocketChannel.Open(topology.Home.ApiSocket);

        // What grpcurl or grpc_cli would ask first: the services, then a file descriptor by symbol.
        using var call = new Grpc.Reflection.V1Alpha.ServerReflection.ServerReflectionClient(channel)
            .ServerReflectionInfo(deadline: DateTime.UtcNow.AddSeconds(30));
        await call.RequestStream.WriteAsync(new Grpc.Reflection.V1Alpha.ServerReflectionRequest { ListServices = "" });
        await call.RequestStream.WriteAsync(new Grpc.Reflection.V1Alpha.ServerReflectionRequest { FileContainingSymbol = "xdplb.v1.Controller" });
        await call.RequestStream.CompleteAsync();
        var answers = new List<Grpc.Reflection.V1Alpha.ServerReflectionResponse>();
        while (await call.ResponseStream.MoveNext(CancellationToken.None))
            answers.Add(call.ResponseStream.Current);

        var services = answers[0].ListServicesResponse.Service.Select(s => s.Name).ToList();
        Assert.Contains("xdplb.v1.Agent", services);
        Assert.Contains("xdplb.v1.Controller", services);
        Assert.Contains("grpc.health.v1.Health", services);
        var file = Google.Protobuf.Reflection.FileDescriptorProto.Parser.ParseFrom(answers[1].FileDescriptorResponse.FileDescriptorProto[0]);
        Assert.Contains(file.Service.Single(s => s.Name == "Controller").Method, m => m.Name == "ApplyService");
    }

    /// <summary>
    /// The TLS files that cannot work: exit 2 with the message, before anything is pinned. Flags
    /// that do not go together are refused before any file is read (RunCommandLineTests).
    /// </summary>
    [Theory]
    [InlineData("--api-listen 127.0.0.1:9470 --api-cert {dir}/none.crt --api-key {key} --api-client-ca {ca}", "--api-cert {dir}/none.crt: cannot read it")]
    [InlineData("--api-listen 127.0.0.1:9470 --api-cert {dir} --api-key {key} --api-client-ca {ca}", "--api-cert {dir}: cannot read it")]
    [InlineData("--api-listen 127.0.0.1:9470 --api-cert {key} --api-key {key} --api-client-ca {ca}", "--api-cert {key} holds no PEM certificate")]
    [InlineData("--api-listen 127.0.0.1:9470 --api-cert {cert} --api-key {dir}/none.key --api-client-ca {ca}", "--api-key {dir}/none.key: cannot read it")]
    [InlineData("--api-listen 127.0.0.1:9470 --api-cert {cert} --api-key {cert} --api-client-ca {ca}", "--api-key {cert} holds no PEM private key")]
    [InlineData("--api-listen 127.0.0.1:9470 --api-cert {cert} --api-key {otherkey} --api-client-ca {ca}", "--api-key {otherkey} does not match the certificate in --api-cert {cert} (CN=127.0.0.1)")]
    [InlineData("--api-listen 127.0.0.1:9470 --api-cert {cert} --api-key {key} --api-client-ca {key}", "--api-client-ca {key} holds no PEM certificate")]
    [InlineData("--api-listen 127.0.0.1:9470 --api-cert {cert} --api-key {key} --api-client-ca {dir}/none.pem", "--api-client-ca {dir}/none.pem: cannot read it")]
    public void BadTransportFilesAreUsageErrors(string flags, string message)
    {
        TestCertificates.WritePem(pkiDir, "other", TestCertificates.IssueClient(ca, "other"));
        string Expand(string s) => s.Replace("{cert}", serverCert).Replace("{key}", serverKey).Replace("{ca}", caFile)
            .Replace("{otherkey}", Path.Combine(pkiDir, "other.key")).Replace("{dir}", pkiDir);
        using var home = new AgentHome();

        var r = Shell.Run(Repo.Agent, new[] { "run", "--config", configFile, "--interface", "xdplb-none0" }.Concat(home.Flags)
            .Concat(Expand(flags).Split(' ')), TimeSpan.FromSeconds(60));

        Assert.Equal(2, r.ExitCode);
        Assert.StartsWith("xdplb: ", r.Stderr);
        Assert.Contains(Expand(message), r.Stderr);
        Assert.False(Directory.Exists(Path.Combine(home.PinDir, "maps")));
        Assert.False(File.Exists(home.ApiSocket));
    }

    private static AgentStatus GetStatusOverTls(string netns, X509Certificate2? clientCertificate, X509Certificate2 trustedServerCa, Action? serverChecked = null)
    {
        using var channel = TlsChannel(netns, clientCertificate, trustedServerCa, serverChecked);
        return new Agent.AgentClient(channel).GetStatus(new GetStatusRequest(), deadline: DateTime.UtcNow.AddSeconds(30));
    }

    /// <summary>A channel to the agent's TCP listener that presents the client certificate (if any) and trusts only the given CA for the agent's.</summary>
    private static GrpcChannel TlsChannel(string netns, X509Certificate2? clientCertificate, X509Certificate2 trustedServerCa, Action? serverChecked = null)
    {
        var handler = new SocketsHttpHandler
        {
            ConnectCallback = (_, cancel) => ConnectInNetns(netns, cancel),
            SslOptions = new SslClientAuthenticationOptions
            {
                ClientCertificates = clientCertificate is null ? null : new X509CertificateCollection { clientCertificate },
                RemoteCertificateValidationCallback = (_, certificate, _, _) =>
                {
                    serverChecked?.Invoke();
                    using var chain = new X509Chain();
                    chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
                    chain.ChainPolicy.CustomTrustStore.Add(trustedServerCa);
                    chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
                    return certificate is not null && chain.Build(new X509Certificate2(certificate));
                },
            },
        };
        return GrpcChannel.ForAddress($"https://{Listen}", new GrpcChannelOptions { HttpHandler = handler });
    }

    private static async ValueTask<Stream> ConnectInNetns(string netns, CancellationToken cancel)
    {
        var socket = NetnsSocket.CreateTcp(netns, AddressFamily.InterNetwork);
        try
        {
            await socket.ConnectAsync(Listen, cancel);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    private static AgentStatus GetStatusOverUnixSocket(string socketPath)
    {
        using var channel = XdpLb.Api.UnixSocketChannel.Open(socketPath);
        return new Agent.AgentClient(channel).GetStatus(new GetStatusRequest(), deadline: DateTime.UtcNow.AddSeconds(30));
    }

    /// <summary>
    /// The call failed because the agent refused the client's certificate in the TLS handshake.
    /// In TLS 1.3 the server does so after the client has sent its last handshake message, so
    /// the client learns it when the HTTP/2 preface that should follow never comes (in TLS 1.2
    /// its own handshake fails).
    /// </summary>
    private static void AssertTheAgentRefusedTheClient(Exception e)
    {
        Assert.IsType<RpcException>(e);
        Assert.True(Chain(e).Any(i => i is System.Security.Authentication.AuthenticationException
            || i.Message.Contains("the server did not complete the HTTP/2 handshake", StringComparison.Ordinal)), Describe(e));
    }

    private static void AssertTheClientRefusedTheAgent(Exception e)
    {
        Assert.IsType<RpcException>(e);
        Assert.True(Chain(e).Any(i => i is System.Security.Authentication.AuthenticationException
            && i.Message.Contains("remote certificate was rejected", StringComparison.Ordinal)), Describe(e));
    }

    private static string Describe(Exception e) => string.Join("\n -> ", Chain(e).Select(i => $"{i.GetType().Name}: {i.Message}"));

    private static IEnumerable<Exception> Chain(Exception e)
    {
        for (Exception? i = e; i is not null; i = i.InnerException)
            yield return i;
    }

    public void Dispose()
    {
        File.Delete(configFile);
        Directory.Delete(pkiDir, recursive: true);
    }
}
