using System.Text;

namespace XdpLb.FakeKubeApi.Http;

/// <summary>Reads request heads off a connection, one after another (keep-alive).</summary>
internal sealed class HttpRequestReader(Stream stream)
{
    private const int MaxHeadBytes = 64 * 1024;
    private readonly byte[] buffer = new byte[MaxHeadBytes];
    private int start, end;

    /// <returns>null when the peer closed the connection between requests</returns>
    /// <exception cref="InvalidDataException">the bytes are not an HTTP/1.x request</exception>
    public async Task<HttpRequest?> ReadAsync(CancellationToken ct)
    {
        int headEnd;
        while ((headEnd = FindHeadEnd()) < 0)
        {
            if (start > 0)
            {
                Buffer.BlockCopy(buffer, start, buffer, 0, end - start);
                end -= start;
                start = 0;
            }
            if (end == buffer.Length)
                throw new InvalidDataException("request head too large");
            int n = await stream.ReadAsync(buffer.AsMemory(end), ct).ConfigureAwait(false);
            if (n == 0)
                return end == start ? null : throw new InvalidDataException("connection closed inside a request head");
            end += n;
        }

        string head = Encoding.ASCII.GetString(buffer, start, headEnd - start);
        start = headEnd + 4;
        var request = ParseHead(head);
        await SkipBodyAsync(request, ct).ConfigureAwait(false);
        return request;
    }

    private int FindHeadEnd() => buffer.AsSpan(start, end - start).IndexOf("\r\n\r\n"u8) is var i and >= 0 ? start + i : -1;

    private static HttpRequest ParseHead(string head)
    {
        var lines = head.Split("\r\n");
        var parts = lines[0].Split(' ');
        if (parts.Length != 3 || !parts[2].StartsWith("HTTP/1.", StringComparison.Ordinal))
            throw new InvalidDataException($"bad request line '{lines[0]}'");
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var line in lines.Skip(1))
        {
            int colon = line.IndexOf(':');
            if (colon <= 0)
                throw new InvalidDataException($"bad header line '{line}'");
            headers[line[..colon].Trim()] = line[(colon + 1)..].Trim();
        }
        var (path, query) = HttpRequest.SplitTarget(parts[1]);
        return new HttpRequest(parts[0], parts[1], path, query, headers);
    }

    private async Task SkipBodyAsync(HttpRequest request, CancellationToken ct)
    {
        if (request.Headers.ContainsKey("transfer-encoding"))
            throw new InvalidDataException("chunked request bodies are not supported");
        if (!request.Headers.TryGetValue("content-length", out var lengthText))
            return;
        long remaining = long.Parse(lengthText, System.Globalization.CultureInfo.InvariantCulture);
        while (remaining > 0)
        {
            if (start == end)
            {
                start = end = 0;
                int n = await stream.ReadAsync(buffer, ct).ConfigureAwait(false);
                if (n == 0)
                    throw new InvalidDataException("connection closed inside a request body");
                end = n;
            }
            int take = (int)Math.Min(remaining, end - start);
            start += take;
            remaining -= take;
        }
    }
}
