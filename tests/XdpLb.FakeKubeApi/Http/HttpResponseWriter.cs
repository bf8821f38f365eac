using System.Net;
using System.Text;

namespace XdpLb.FakeKubeApi.Http;

/// <summary>Writes HTTP/1.1 responses: whole bodies with Content-Length, or a chunked stream.</summary>
internal static class HttpResponseWriter
{
    public static async Task WriteAsync(Stream stream, int status, string body, bool close, CancellationToken ct)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(body);
        string head = StatusLine(status)
            + "Content-Type: application/json\r\n"
            + $"Content-Length: {bytes.Length}\r\n"
            + (close ? "Connection: close\r\n" : "")
            + "\r\n";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(head), ct).ConfigureAwait(false);
        await stream.WriteAsync(bytes, ct).ConfigureAwait(false);
        await stream.FlushAsync(ct).ConfigureAwait(false);
    }

    /// <summary>Starts a chunked 200 response; the connection is closed after it ends.</summary>
    public static async Task<ChunkedBody> StartChunkedAsync(Stream stream, CancellationToken ct)
    {
        string head = StatusLine(200)
            + "Content-Type: application/json\r\n"
            + "Transfer-Encoding: chunked\r\n"
            + "Connection: close\r\n"
            + "\r\n";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(head), ct).ConfigureAwait(false);
        await stream.FlushAsync(ct).ConfigureAwait(false);
        return new ChunkedBody(stream);
    }

    private static string StatusLine(int status)
    {
        string reason = ReasonPhrase(status);
        return $"HTTP/1.1 {status} {reason}\r\n";
    }

    public static string ReasonPhrase(int status) => status switch
    {
        200 => "OK",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        410 => "Gone",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => Enum.IsDefined((HttpStatusCode)status) ? ((HttpStatusCode)status).ToString() : "Status",
    };
}

/// <summary>The body of a chunked response: each write is one chunk, flushed at once.</summary>
internal sealed class ChunkedBody(Stream stream)
{
    public async Task WriteChunkAsync(string text, CancellationToken ct)
    {
        byte[] data = Encoding.UTF8.GetBytes(text);
        byte[] size = Encoding.ASCII.GetBytes($"{data.Length:x}\r\n");
        await stream.WriteAsync(size, ct).ConfigureAwait(false);
        await stream.WriteAsync(data, ct).ConfigureAwait(false);
        await stream.WriteAsync("\r\n"u8.ToArray(), ct).ConfigureAwait(false);
        await stream.FlushAsync(ct).ConfigureAwait(false);
    }

    /// <summary>The zero-length chunk: the client sees a clean end of the body.</summary>
    public async Task EndAsync(CancellationToken ct)
    {
        await stream.WriteAsync("0\r\n\r\n"u8.ToArray(), ct).ConfigureAwait(false);
        await stream.FlushAsync(ct).ConfigureAwait(false);
    }
}
