using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace XdpLb.Kubernetes.Tests;

public sealed class ProxyHealthServerTests : IDisposable
{
    private static readonly DateTime T0 = new(2024, 5, 1, 12, 0, 0, DateTimeKind.Utc);
    private readonly ProxyHealth _health = new(TimeSpan.FromSeconds(60));
    private DateTime _now = T0;
    private readonly ProxyHealthServer _server;
    private readonly HttpClient _client = new();

    public ProxyHealthServerTests()
    {
        _server = ProxyHealthServer.Start(new IPEndPoint(IPAddress.Loopback, 0), _health, () => _now);
    }

    public void Dispose()
    {
        _client.Dispose();
        _server.Dispose();
    }

    private Uri Url(string path) => new($"http://127.0.0.1:{_server.LocalEndPoint.Port}{path}");

    private async Task<(HttpStatusCode Status, JsonElement Body, HttpResponseMessage Response)> Get(string path)
    {
        var response = await _client.GetAsync(Url(path));
        string text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, JsonDocument.Parse(text).RootElement, response);
    }

    [Fact]
    public async Task HealthzAnswers200WithKubeProxysBodyAndHeadersWhenHealthy()
    {
        _health.Updated(T0 - TimeSpan.FromSeconds(5));

        var (status, body, response) = await Get("/healthz");

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("nosniff", Assert.Single(response.Headers.GetValues("X-Content-Type-Options")));
        // Healthy: lastUpdated is reported as the current time, as kube-proxy does.
        Assert.Equal("2024-05-01 12:00:00 +0000 UTC", body.GetProperty("currentTime").GetString());
        Assert.Equal("2024-05-01 12:00:00 +0000 UTC", body.GetProperty("lastUpdated").GetString());
        Assert.True(body.GetProperty("nodeEligible").GetBoolean());
    }

    [Fact]
    public async Task AChangeWaitingTooLongMakesHealthzAndLivez503WithTheRealLastUpdate()
    {
        _health.Updated(T0.AddMilliseconds(250));
        _health.QueuedUpdate(T0 + TimeSpan.FromSeconds(1));
        _now = T0 + TimeSpan.FromSeconds(120);

        var healthz = await Get("/healthz");
        var livez = await Get("/livez");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, healthz.Status);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, livez.Status);
        Assert.Equal("2024-05-01 12:00:00.25 +0000 UTC", healthz.Body.GetProperty("lastUpdated").GetString());
        Assert.Equal("2024-05-01 12:02:00 +0000 UTC", livez.Body.GetProperty("currentTime").GetString());
    }

    [Fact]
    public async Task NeverSyncedAndLateReportsTheZeroTime()
    {
        _health.QueuedUpdate(T0);
        _now = T0 + TimeSpan.FromMinutes(5);
        var (status, body, _) = await Get("/livez");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
        Assert.Equal("0001-01-01 00:00:00 +0000 UTC", body.GetProperty("lastUpdated").GetString());
    }

    [Fact]
    public async Task AnIneligibleNodeFailsHealthzButNotLivezWhichDoesNotReportIt()
    {
        _health.SetNodeEligible(false);

        var healthz = await Get("/healthz");
        var livez = await Get("/livez");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, healthz.Status);
        Assert.False(healthz.Body.GetProperty("nodeEligible").GetBoolean());
        Assert.Equal(HttpStatusCode.OK, livez.Status);
        Assert.False(livez.Body.TryGetProperty("nodeEligible", out _));
        Assert.Equal("application/json", livez.Response.Content.Headers.ContentType?.MediaType);
    }

    [Theory]
    [InlineData("/", HttpStatusCode.NotFound)]
    [InlineData("/metrics", HttpStatusCode.NotFound)]
    [InlineData("/healthz/", HttpStatusCode.NotFound)]
    [InlineData("/healthz?verbose=1", HttpStatusCode.OK)]
    [InlineData("/health%7A", HttpStatusCode.OK)]
    public async Task PathsAreMatchedAsGoServeMuxDoes(string path, HttpStatusCode expected)
    {
        var response = await _client.GetAsync(Url(path));
        Assert.Equal(expected, response.StatusCode);
        Assert.Equal("nosniff", Assert.Single(response.Headers.GetValues("X-Content-Type-Options")));
    }

    [Fact]
    public async Task HeadIsAnsweredWithTheHeadersAndNoBody()
    {
        using var request = new HttpRequestMessage(HttpMethod.Head, Url("/healthz"));
        var response = await _client.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        Assert.Empty(await response.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task OtherMethodsAreAnsweredAsKubeProxysHandlerDoes()
    {
        var response = await _client.PostAsync(Url("/livez"), new StringContent(new string('x', 20_000)));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.True(JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.TryGetProperty("currentTime", out _));
    }

    [Theory]
    [InlineData("garbage\r\n\r\n")]
    [InlineData("GET /healthz\r\n\r\n")]
    [InlineData("GET /healthz HTTP/9.9\r\n\r\n")]
    [InlineData("GET healthz HTTP/1.1\r\n\r\n")]
    [InlineData("\u0001\u0002\u0003 / HTTP/1.1\r\n\r\n")]
    [InlineData("GET /%zz HTTP/1.1\r\n\r\n")]
    public async Task GarbageGets400AndTheServerKeepsServing(string request)
    {
        string answer = await RawExchange(_server.LocalEndPoint, Encoding.Latin1.GetBytes(request));
        Assert.StartsWith("HTTP/1.1 400 ", answer);
        Assert.Equal(HttpStatusCode.OK, (await Get("/healthz")).Status);
    }

    [Fact]
    public async Task ABareLfRequestIsUnderstood()
    {
        string answer = await RawExchange(_server.LocalEndPoint, "GET /livez HTTP/1.0\nHost: x\n\n"u8.ToArray());
        Assert.StartsWith("HTTP/1.1 200 OK\r\n", answer);
        Assert.Contains("\r\nContent-Type: application/json\r\n", answer);
        Assert.EndsWith("\"currentTime\": \"2024-05-01 12:00:00 +0000 UTC\"}", answer);
    }

    [Fact]
    public async Task AnOversizedRequestHeadGets431()
    {
        byte[] request = Encoding.ASCII.GetBytes("GET /healthz HTTP/1.1\r\nX-Big: " + new string('a', 20_000) + "\r\n\r\n");
        string answer = await RawExchange(_server.LocalEndPoint, request);
        Assert.StartsWith("HTTP/1.1 431 ", answer);
    }

    [Fact]
    public async Task AnIdleConnectionDoesNotHoldUpOthers()
    {
        using var idle = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await idle.ConnectAsync(_server.LocalEndPoint);
        await idle.SendAsync("GET /hea"u8.ToArray());

        Assert.Equal(HttpStatusCode.OK, (await Get("/healthz")).Status);
    }

    [Fact]
    public async Task AClientThatNeverFinishesItsRequestIsDisconnected()
    {
        using var server = ProxyHealthServer.Start(new IPEndPoint(IPAddress.Loopback, 0), _health, () => _now,
            new HttpLimits { RequestTimeout = TimeSpan.FromMilliseconds(200) });
        using var slow = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await slow.ConnectAsync(server.LocalEndPoint);
        await slow.SendAsync("GET /healthz HTTP/1.1\r\n"u8.ToArray());

        // The server closes it without an answer; the cap only keeps a broken server from hanging the test.
        using var cap = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        int read = await slow.ReceiveAsync(new byte[256], SocketFlags.None, cap.Token);
        Assert.Equal(0, read);
    }

    [Fact]
    public void APortInUseIsRefusedAtStart()
    {
        Assert.Throws<SocketException>(() => ProxyHealthServer.Start(_server.LocalEndPoint, _health, () => _now));
    }

    /// <summary>Sends raw bytes, half-closes, and returns everything the server answers.</summary>
    internal static async Task<string> RawExchange(IPEndPoint endpoint, byte[] request)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(endpoint);
        await socket.SendAsync(request);
        var received = new MemoryStream();
        var buffer = new byte[4096];
        using var cap = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (true)
        {
            int read;
            try
            {
                read = await socket.ReceiveAsync(buffer, SocketFlags.None, cap.Token);
            }
            catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionReset)
            {
                break;
            }
            if (read == 0)
                break;
            received.Write(buffer, 0, read);
        }
        return Encoding.Latin1.GetString(received.ToArray());
    }
}
