namespace XdpLb.FakeKubeApi;

/// <summary>A request target (path and query) read the way the API server's Go code reads it.</summary>
internal sealed record RequestTarget(string Path, IReadOnlyDictionary<string, string> Query)
{
    /// <summary>Splits <c>path?query</c>; keys and values are URL-decoded, '+' read as a space as Go does.</summary>
    public static RequestTarget Parse(string target)
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
        return new RequestTarget(path, query);
    }

    private static string Decode(string s) => Uri.UnescapeDataString(s.Replace('+', ' '));
}
