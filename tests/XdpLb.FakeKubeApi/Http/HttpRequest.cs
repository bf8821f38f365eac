namespace XdpLb.FakeKubeApi.Http;

/// <summary>An HTTP/1.1 request head; bodies are read and discarded (the fake only serves GET).</summary>
internal sealed record HttpRequest(
    string Method,
    string Target,
    string Path,
    IReadOnlyDictionary<string, string> Query,
    IReadOnlyDictionary<string, string> Headers)
{
    public bool WantsClose =>
        Headers.TryGetValue("connection", out var c) && c.Contains("close", StringComparison.OrdinalIgnoreCase);

    /// <summary>Splits <c>path?query</c>; keys and values are URL-decoded, '+' read as a space as Go does.</summary>
    public static (string Path, Dictionary<string, string> Query) SplitTarget(string target)
    {
        int q = target.IndexOf('?');
        string path = Uri.UnescapeDataString(q < 0 ? target : target[..q]);
        var query = new Dictionary<string, string>(StringComparer.Ordinal);
        if (q >= 0)
        {
            foreach (var pair in target[(q + 1)..].Split('&', StringSplitOptions.RemoveEmptyEntries))
            {
                int eq = pair.IndexOf('=');
                string key = Decode(eq < 0 ? pair : pair[..eq]);
                string value = eq < 0 ? "" : Decode(pair[(eq + 1)..]);
                query.TryAdd(key, value); // the first value wins, as url.Values.Get does
            }
        }
        return (path, query);
    }

    private static string Decode(string s) => Uri.UnescapeDataString(s.Replace('+', ' '));
}
