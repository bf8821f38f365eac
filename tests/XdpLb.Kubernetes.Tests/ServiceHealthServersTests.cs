using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace XdpLb.Kubernetes.Tests;

public sealed class ServiceHealthServersTests : IDisposable
{
    private static readonly ServiceName Web = new("shop", "web");
    private static readonly ServiceName Api = new("shop", "api");
    private bool _proxyHealthy = true;
    private readonly ServiceHealthServers _servers;
    private readonly HttpClient _client = new();

    public ServiceHealthServersTests()
    {
        _servers = new ServiceHealthServers(() => _proxyHealthy, [IPAddress.Loopback]);
    }

    public void Dispose()
    {
        _client.Dispose();
        _servers.Dispose();
    }

    /// <summary>A loopback port nobody listens on now: bound to port 0 to let the kernel pick, then released.</summary>
    private static ushort FreePort()
    {
        using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        probe.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return (ushort)((IPEndPoint)probe.LocalEndPoint!).Port;
    }

    private async Task<(HttpStatusCode Status, JsonElement Body, HttpResponseMessage Response)> Get(ushort port, string path = "/")
    {
        var response = await _client.GetAsync(new Uri($"http://127.0.0.1:{port}{path}"));
        return (response.StatusCode, JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement, response);
    }

    /// <summary>
    /// Connections to the port are refused within 5 s: a listening socket's close completes once
    /// its pending accept has been cancelled, which can lag Dispose on a loaded machine.
    /// </summary>
    private static async Task<bool> Refused(ushort port)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(5);
        while (!await RefusedNow(port))
        {
            if (DateTime.UtcNow > deadline)
                return false;
            await Task.Delay(50);
        }
        return true;
    }

    private static async Task<bool> RefusedNow(ushort port)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port));
            return false;
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionRefused)
        {
            return true;
        }
    }

    [Fact]
    public async Task AServiceWithLocalEndpointsAnswers200WithKubeProxysBodyOnAnyPath()
    {
        ushort port = FreePort();
        Assert.Empty(_servers.Sync(new Dictionary<ServiceName, ServiceHealth> { [Web] = new(port, 2) }));

        var (status, body, response) = await Get(port, "/any/path?x=1");

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("shop", body.GetProperty("service").GetProperty("namespace").GetString());
        Assert.Equal("web", body.GetProperty("service").GetProperty("name").GetString());
        Assert.Equal(2, body.GetProperty("localEndpoints").GetInt32());
        Assert.True(body.GetProperty("serviceProxyHealthy").GetBoolean());
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("nosniff", Assert.Single(response.Headers.GetValues("X-Content-Type-Options")));
    }

    [Fact]
    public async Task NoLocalEndpointsOrAnUnhealthyProxyAnswers503()
    {
        ushort empty = FreePort();
        ushort full = FreePort();
        _servers.Sync(new Dictionary<ServiceName, ServiceHealth> { [Web] = new(empty, 0), [Api] = new(full, 3) });

        var none = await Get(empty);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, none.Status);
        Assert.Equal(0, none.Body.GetProperty("localEndpoints").GetInt32());

        _proxyHealthy = false;
        var sick = await Get(full);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, sick.Status);
        Assert.Equal(3, sick.Body.GetProperty("localEndpoints").GetInt32());
        Assert.False(sick.Body.GetProperty("serviceProxyHealthy").GetBoolean());
    }

    [Fact]
    public async Task AChangedCountIsServedOnTheSamePort()
    {
        ushort port = FreePort();
        _servers.Sync(new Dictionary<ServiceName, ServiceHealth> { [Web] = new(port, 1) });
        Assert.Equal(1, (await Get(port)).Body.GetProperty("localEndpoints").GetInt32());

        _servers.Sync(new Dictionary<ServiceName, ServiceHealth> { [Web] = new(port, 0) });
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await Get(port)).Status);

        _servers.Sync(new Dictionary<ServiceName, ServiceHealth> { [Web] = new(port, 7) });
        var (status, body, _) = await Get(port);
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(7, body.GetProperty("localEndpoints").GetInt32());
    }

    [Fact]
    public async Task ARemovedServiceClosesItsPortAndTheOthersStay()
    {
        ushort webPort = FreePort();
        ushort apiPort = FreePort();
        _servers.Sync(new Dictionary<ServiceName, ServiceHealth> { [Web] = new(webPort, 1), [Api] = new(apiPort, 1) });

        _servers.Sync(new Dictionary<ServiceName, ServiceHealth> { [Api] = new(apiPort, 1) });

        Assert.True(await Refused(webPort));
        Assert.Equal(HttpStatusCode.OK, (await Get(apiPort)).Status);
        Assert.Equal(new Dictionary<ServiceName, ushort> { [Api] = apiPort }, _servers.OpenPorts);
    }

    [Fact]
    public async Task AMovedPortClosesTheOldOneAndOpensTheNewOne()
    {
        ushort before = FreePort();
        ushort after = FreePort();
        _servers.Sync(new Dictionary<ServiceName, ServiceHealth> { [Web] = new(before, 1) });

        _servers.Sync(new Dictionary<ServiceName, ServiceHealth> { [Web] = new(after, 1) });

        Assert.True(await Refused(before));
        Assert.Equal("web", (await Get(after)).Body.GetProperty("service").GetProperty("name").GetString());
    }

    [Fact]
    public async Task APortThatCannotBeBoundIsReportedDoesNotStopTheOthersAndIsRetried()
    {
        ushort webPort = FreePort();
        using var squatter = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        squatter.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        squatter.Listen();
        ushort taken = (ushort)((IPEndPoint)squatter.LocalEndPoint!).Port;
        var wanted = new Dictionary<ServiceName, ServiceHealth> { [Web] = new(webPort, 1), [Api] = new(taken, 1) };

        var failure = Assert.Single(_servers.Sync(wanted));

        Assert.Equal(Api, failure.Service);
        Assert.Equal(taken, failure.Port);
        Assert.Contains(taken.ToString(System.Globalization.CultureInfo.InvariantCulture), failure.Reason);
        Assert.Equal(HttpStatusCode.OK, (await Get(webPort)).Status);
        Assert.False(_servers.OpenPorts.ContainsKey(Api));

        squatter.Close();
        Assert.Empty(_servers.Sync(wanted));
        Assert.Equal("api", (await Get(taken)).Body.GetProperty("service").GetProperty("name").GetString());
    }

    [Fact]
    public void TwoServicesOnOnePortOpenOneAndReportTheOther()
    {
        ushort port = FreePort();
        var failure = Assert.Single(_servers.Sync(new Dictionary<ServiceName, ServiceHealth> { [Web] = new(port, 1), [Api] = new(port, 1) }));
        Assert.Equal(port, failure.Port);
        Assert.Single(_servers.OpenPorts);
    }

    [Fact]
    public async Task TheBodyIsKubeProxysText()
    {
        ushort port = FreePort();
        _servers.Sync(new Dictionary<ServiceName, ServiceHealth> { [Web] = new(port, 1) });
        string body = await _client.GetStringAsync(new Uri($"http://127.0.0.1:{port}/"));
        Assert.Equal("{\n\t\"service\": {\n\t\t\"namespace\": \"shop\",\n\t\t\"name\": \"web\"\n\t},\n\t\"localEndpoints\": 1,\n\t\"serviceProxyHealthy\": true\n}", body);
    }

    [Fact]
    public async Task GarbageDoesNotBreakAHealthCheckPort()
    {
        ushort port = FreePort();
        _servers.Sync(new Dictionary<ServiceName, ServiceHealth> { [Web] = new(port, 1) });
        var endpoint = new IPEndPoint(IPAddress.Loopback, port);

        string answer = await ProxyHealthServerTests.RawExchange(endpoint, Encoding.ASCII.GetBytes("\r\n\r\n"));
        Assert.StartsWith("HTTP/1.1 400 ", answer);
        string big = await ProxyHealthServerTests.RawExchange(endpoint, Encoding.ASCII.GetBytes("GET / HTTP/1.1\r\n" + new string('h', 50_000)));
        Assert.StartsWith("HTTP/1.1 431 ", big);

        Assert.Equal(HttpStatusCode.OK, (await Get(port)).Status);
    }

    [Fact]
    public async Task DisposeClosesEveryPort()
    {
        ushort port = FreePort();
        var servers = new ServiceHealthServers(() => true, [IPAddress.Loopback]);
        servers.Sync(new Dictionary<ServiceName, ServiceHealth> { [Web] = new(port, 1) });
        Assert.Equal(HttpStatusCode.OK, (await Get(port)).Status);

        servers.Dispose();

        Assert.True(await Refused(port));
    }
}
