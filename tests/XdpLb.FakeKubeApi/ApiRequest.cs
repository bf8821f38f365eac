using System.Globalization;

namespace XdpLb.FakeKubeApi;

/// <summary>
/// A GET on one of the served resources, decoded from its path and query the way the API server
/// reads them: a list, a watch, or one named object.
/// </summary>
internal sealed record ApiRequest(
    ResourceType Type,
    string? Namespace,
    string? Name,
    bool Watch,
    long? StartVersion,
    bool AllowBookmarks,
    int? TimeoutSeconds,
    int? Limit,
    string? Continue,
    FieldSelector Fields,
    LabelSelector Labels)
{
    /// <summary>Null when the path names no served resource.</summary>
    /// <exception cref="FormatException">a query parameter is malformed</exception>
    public static ApiRequest? Parse(RequestTarget request)
    {
        if (!TryRoute(request.Path, out var type, out var ns, out var name))
            return null;
        var q = request.Query;
        return new ApiRequest(
            type, ns, name,
            Watch: Flag(q, "watch"),
            StartVersion: ParseStartVersion(q.GetValueOrDefault("resourceVersion")),
            AllowBookmarks: Flag(q, "allowWatchBookmarks"),
            TimeoutSeconds: Number(q, "timeoutSeconds"),
            Limit: Number(q, "limit") is > 0 and var limit ? limit : null,
            Continue: q.GetValueOrDefault("continue") is { Length: > 0 } token ? token : null,
            Fields: FieldSelector.Parse(q.GetValueOrDefault("fieldSelector")),
            Labels: LabelSelector.Parse(q.GetValueOrDefault("labelSelector")));
    }

    // The version a watch or list starts from: null for "" and "0" (the current state).
    private static long? ParseStartVersion(string? text) => text is null or "" or "0"
        ? null
        : long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var rv)
            ? rv
            : throw new FormatException($"invalid resource version '{text}'");

    public bool Selects(StoredObject obj) =>
        obj.Type == Type && (Namespace is null || obj.Namespace == Namespace) && Fields.Matches(obj) && Labels.Matches(obj.Labels);

    // {group}/{plural}[/{name}] or {group}/namespaces/{ns}/{plural}[/{name}], group /api/v1 or /apis/discovery.k8s.io/v1.
    private static bool TryRoute(string path, out ResourceType type, out string? ns, out string? name)
    {
        type = ResourceType.Services;
        ns = name = null;
        foreach (var candidate in ResourceType.All)
        {
            if (!path.StartsWith(candidate.GroupPath + "/", StringComparison.Ordinal))
                continue;
            var rest = path[(candidate.GroupPath.Length + 1)..].TrimEnd('/').Split('/');
            string? nsPart = null;
            if (rest.Length >= 3 && rest[0] == "namespaces" && candidate.Namespaced)
            {
                nsPart = rest[1];
                rest = rest[2..];
            }
            if (rest.Length is < 1 or > 2 || rest[0] != candidate.Plural || rest.Any(s => s.Length == 0))
                continue;
            if (rest.Length == 2 && candidate.Namespaced && nsPart is null)
                continue; // a namespaced object is only addressable inside its namespace
            type = candidate;
            ns = nsPart;
            name = rest.Length == 2 ? rest[1] : null;
            return true;
        }
        return false;
    }

    private static bool Flag(IReadOnlyDictionary<string, string> q, string key) =>
        q.TryGetValue(key, out var v) && v is "true" or "1" or "True" or "t" or "T" or "TRUE";

    private static int? Number(IReadOnlyDictionary<string, string> q, string key) =>
        !q.TryGetValue(key, out var v) || v.Length == 0 ? null
        : int.TryParse(v, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var n) ? n
        : throw new FormatException($"invalid {key} '{v}'");
}
