using System.Buffers;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace XdpLb.Kubernetes;

/// <summary>The parts of a request the health endpoints look at; <see cref="Path"/> is decoded and without the query.</summary>
internal readonly record struct HttpRequestHead(string Method, string Path);

internal sealed record HttpReply(int Status, string ContentType, string Body)
{
    public static HttpReply Json(int status, string body) => new(status, "application/json", body);
    /// <summary>What Go's http.NotFound sends.</summary>
    public static readonly HttpReply NotFound = new(404, "text/plain; charset=utf-8", "404 page not found\n");
}

/// <summary>Bounds that keep a slow, idle or hostile client from holding the server.</summary>
internal sealed record HttpLimits
{
    public int MaxHeaderBytes { get; init; } = 8 * 1024;
    /// <summary>From accept to the end of the request head, and again for writing the answer.</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(10);
    public int MaxConnections { get; init; } = 64;
    /// <summary>After answering, how long unread input is drained so closing does not reset the answer away.</summary>
    public TimeSpan LingerTimeout { get; init; } = TimeSpan.FromSeconds(1);
}

/// <summary>
/// A minimal HTTP/1.1 responder on a raw socket for the health endpoints: one request per
/// connection (answered with Connection: close), any method, HEAD without the body. Health
/// checkers (kubelet probes, cloud load balancers) need no more.
/// </summary>
/// <remarks>
/// Not Kestrel, though the agent runs it for its API and metrics, because the health check
/// ports come and go with Services, one per externalTrafficPolicy: Local Service:
/// <list type="bullet">
/// <item>Every KestrelServer starts its own heartbeat thread ("Kestrel Timer"). Measured with
/// 200 ports open, one slim KestrelServer each costs a thread and about 90 KiB of RSS per port
/// (a WebApplication each, about 180 KiB); this server costs no thread and 15 to 50 KiB.</item>
/// <item>One KestrelServer adds and removes endpoints at run time only through a configuration
/// reload, which binds in the background and reports a port it cannot bind only in its log;
/// <see cref="ServiceHealthServers.Sync"/> must report that port and retry it.</item>
/// <item>Kestrel drops the answer to a client that half-closes after its request (sends FIN),
/// where kube-proxy's Go server answers it.</item>
/// </list>
/// </remarks>
internal sealed class MiniHttpServer : IDisposable
{
    private readonly Socket _listener;
    private readonly Func<HttpRequestHead, HttpReply> _handler;
    private readonly HttpLimits _limits;
    private readonly CancellationTokenSource _stop = new();
    private int _connections;

    private MiniHttpServer(Socket listener, Func<HttpRequestHead, HttpReply> handler, HttpLimits limits)
    {
        _listener = listener;
        _handler = handler;
        _limits = limits;
        LocalEndPoint = (IPEndPoint)listener.LocalEndPoint!;
    }

    public IPEndPoint LocalEndPoint { get; }

    /// <summary>Binds and listens before returning, so a port in use is a <see cref="SocketException"/> here.</summary>
    public static MiniHttpServer Start(IPEndPoint endpoint, Func<HttpRequestHead, HttpReply> handler, HttpLimits? limits = null)
    {
        var server = new MiniHttpServer(Listen(endpoint), handler, limits ?? new HttpLimits());
        _ = server.AcceptLoop();
        return server;
    }

    private static Socket Listen(IPEndPoint endpoint)
    {
        // Go listens on both families for the wildcard address ("0.0.0.0:10256" answers on IPv6
        // too); a dual-mode [::] socket does the same, and IPv4 alone where IPv6 is off.
        if (endpoint.Address.Equals(IPAddress.Any) || endpoint.Address.Equals(IPAddress.IPv6Any))
        {
            Socket? dual = null;
            try
            {
                dual = new Socket(AddressFamily.InterNetworkV6, SocketType.Stream, ProtocolType.Tcp) { DualMode = true };
                return BindAndListen(dual, new IPEndPoint(IPAddress.IPv6Any, endpoint.Port));
            }
            catch (SocketException e) when (e.SocketErrorCode is SocketError.AddressFamilyNotSupported or SocketError.AddressNotAvailable
                                              && endpoint.Address.Equals(IPAddress.Any))
            {
                dual?.Dispose();
            }
        }
        return BindAndListen(new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp), endpoint);
    }

    private static Socket BindAndListen(Socket socket, IPEndPoint endpoint)
    {
        try
        {
            socket.Bind(endpoint);
            socket.Listen(128);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        if (_stop.IsCancellationRequested)
            return;
        _stop.Cancel();
        _listener.Dispose();
    }

    private async Task AcceptLoop()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await _listener.AcceptAsync(_stop.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException)
            {
                return;
            }
            catch (SocketException)
            {
                // A connection reset before accept completed, or a transient shortage: keep serving.
                continue;
            }
            if (Interlocked.Increment(ref _connections) > _limits.MaxConnections)
            {
                Interlocked.Decrement(ref _connections);
                client.Dispose();
                continue;
            }
            _ = Serve(client);
        }
    }

    private async Task Serve(Socket client)
    {
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
            timeout.CancelAfter(_limits.RequestTimeout);
            var reply = await ReadRequest(client, timeout.Token).ConfigureAwait(false);
            if (reply is null)
                return;
            timeout.CancelAfter(_limits.RequestTimeout);
            await client.SendAsync(reply, SocketFlags.None, timeout.Token).ConfigureAwait(false);
            client.Shutdown(SocketShutdown.Send);
            await Drain(client).ConfigureAwait(false);
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException or ObjectDisposedException)
        {
            // The client went away, was too slow, or the server stopped: nothing to answer.
        }
        finally
        {
            client.Dispose();
            Interlocked.Decrement(ref _connections);
        }
    }

    /// <summary>The encoded answer, or null when the client closed before sending a whole request head.</summary>
    private async Task<byte[]?> ReadRequest(Socket client, CancellationToken cancel)
    {
        byte[] buffer = ArrayPool<byte>.Shared.Rent(_limits.MaxHeaderBytes);
        try
        {
            int length = 0;
            while (true)
            {
                if (length == _limits.MaxHeaderBytes)
                    return Encode("GET", new HttpReply(431, "text/plain; charset=utf-8", "431 Request Header Fields Too Large"));
                int read = await client.ReceiveAsync(buffer.AsMemory(length, _limits.MaxHeaderBytes - length), SocketFlags.None, cancel).ConfigureAwait(false);
                if (read == 0)
                    return null;
                int searchFrom = Math.Max(0, length - 3);
                length += read;
                if (HeadEnd(buffer.AsSpan(searchFrom, length - searchFrom)) >= 0)
                    return Answer(buffer.AsSpan(0, length));
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Where the blank line ending the head is (CRLF CRLF, or bare LF LF as Go also takes), or -1.</summary>
    private static int HeadEnd(ReadOnlySpan<byte> data)
    {
        int crlf = data.IndexOf("\r\n\r\n"u8);
        int lf = data.IndexOf("\n\n"u8);
        return crlf < 0 ? lf : lf < 0 ? crlf : Math.Min(crlf, lf);
    }

    private byte[] Answer(ReadOnlySpan<byte> head)
    {
        int lineEnd = head.IndexOf((byte)'\n');
        var line = head[..lineEnd].TrimEnd((byte)'\r');
        if (!TryParseRequestLine(line, out var request))
            return Encode("GET", new HttpReply(400, "text/plain; charset=utf-8", "400 Bad Request"));
        HttpReply reply;
        try
        {
            reply = _handler(request);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            reply = new HttpReply(500, "text/plain; charset=utf-8", "500 Internal Server Error");
        }
        return Encode(request.Method, reply);
    }

    private static bool TryParseRequestLine(ReadOnlySpan<byte> line, out HttpRequestHead request)
    {
        request = default;
        // Printable ASCII only: the line is METHOD SP TARGET SP HTTP/1.x and nothing else.
        foreach (byte b in line)
        {
            if (b is < 0x20 or > 0x7e)
                return false;
        }
        string[] parts = Encoding.ASCII.GetString(line).Split(' ');
        if (parts.Length != 3 || parts[2] is not ("HTTP/1.1" or "HTTP/1.0") || parts[0].Length == 0 || !parts[0].All(IsTokenChar))
            return false;
        string target = parts[1];
        if (target.StartsWith("http://", StringComparison.OrdinalIgnoreCase) || target.StartsWith("https://", StringComparison.OrdinalIgnoreCase))
        {
            // Absolute form (through a proxy): only the path counts.
            int pathStart = target.IndexOf('/', target.IndexOf("//", StringComparison.Ordinal) + 2);
            target = pathStart < 0 ? "/" : target[pathStart..];
        }
        if (!target.StartsWith('/'))
            return false;
        int query = target.IndexOfAny(['?', '#']);
        string rawPath = query < 0 ? target : target[..query];
        // Go refuses a malformed escape; UnescapeDataString would keep it as text.
        for (int i = rawPath.IndexOf('%'); i >= 0; i = rawPath.IndexOf('%', i + 1))
        {
            if (i + 2 >= rawPath.Length || !char.IsAsciiHexDigit(rawPath[i + 1]) || !char.IsAsciiHexDigit(rawPath[i + 2]))
                return false;
        }
        request = new HttpRequestHead(parts[0], Uri.UnescapeDataString(rawPath));
        return true;
    }

    private static bool IsTokenChar(char c) => char.IsAsciiLetterOrDigit(c) || "!#$%&'*+-.^_`|~".Contains(c);

    private static byte[] Encode(string method, HttpReply reply)
    {
        byte[] body = Encoding.UTF8.GetBytes(reply.Body);
        var head = new StringBuilder()
            .Append(CultureInfo.InvariantCulture, $"HTTP/1.1 {reply.Status} {ReasonPhrase(reply.Status)}\r\n")
            .Append(CultureInfo.InvariantCulture, $"Content-Type: {reply.ContentType}\r\n")
            .Append("X-Content-Type-Options: nosniff\r\n")
            .Append(CultureInfo.InvariantCulture, $"Date: {DateTime.UtcNow:r}\r\n")
            .Append(CultureInfo.InvariantCulture, $"Content-Length: {body.Length}\r\n")
            .Append("Connection: close\r\n\r\n");
        byte[] headBytes = Encoding.ASCII.GetBytes(head.ToString());
        return method == "HEAD" ? headBytes : [.. headBytes, .. body];
    }

    private static string ReasonPhrase(int status) => status switch
    {
        200 => "OK",
        400 => "Bad Request",
        404 => "Not Found",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Status",
    };

    /// <summary>
    /// Reads and drops what the client still sends (a body, pipelined requests) for a moment:
    /// closing with unread input makes the kernel send RST, which can destroy the answer in flight.
    /// </summary>
    private async Task Drain(Socket client)
    {
        using var linger = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
        linger.CancelAfter(_limits.LingerTimeout);
        byte[] scratch = ArrayPool<byte>.Shared.Rent(4096);
        try
        {
            int total = 0;
            while (total < 64 * 1024)
            {
                int read = await client.ReceiveAsync(scratch, SocketFlags.None, linger.Token).ConfigureAwait(false);
                if (read == 0)
                    return;
                total += read;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(scratch);
        }
    }
}
