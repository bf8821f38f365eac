using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace XdpLb.FakeKubeApi;

/// <summary>
/// Answers lists. With a limit, the first page takes a snapshot of the whole result and the
/// continue token walks that snapshot, so paging returns one consistent list, each object once;
/// a token whose snapshot predates a compaction is refused with 410, as the real server does.
/// </summary>
internal sealed class ListResponder(ObjectStore store)
{
    private sealed record Snapshot(long ResourceVersion, IReadOnlyList<StoredObject> Items);

    private readonly ConcurrentDictionary<string, Snapshot> snapshots = new();

    /// <returns>the HTTP status and its body</returns>
    public (int Status, string Body) List(ApiRequest request)
    {
        Snapshot? snapshot;
        string id;
        int offset = 0;
        if (request.Continue is { } token)
        {
            if (!TryReadToken(token, out id, out offset) || !snapshots.TryGetValue(id, out snapshot))
                return (400, ApiStatus.BadRequest($"invalid continue token '{token}'"));
            if (snapshot.ResourceVersion < store.CompactedBelow)
                return (410, ApiStatus.Json(410, "Expired",
                    "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter."));
        }
        else
        {
            if (TooOld(request) is { } status)
                return (410, status);
            var (rv, items) = store.List(request.Selects);
            snapshot = new Snapshot(rv, items);
            id = Guid.NewGuid().ToString("N");
            if (request.Limit is { } limit && items.Count > limit)
                snapshots[id] = snapshot;
        }

        int count = Math.Min(request.Limit ?? int.MaxValue, snapshot.Items.Count - offset);
        int next = offset + count;
        string? nextToken = null;
        if (next < snapshot.Items.Count)
            nextToken = MakeToken(id, next);
        else
            snapshots.TryRemove(id, out _);
        return (200, Render(request.Type, snapshot.ResourceVersion, snapshot.Items.Skip(offset).Take(count),
            nextToken, snapshot.Items.Count - next));
    }

    /// <summary>A 410 Status body when the list asks for a version compacted away.</summary>
    private string? TooOld(ApiRequest request)
    {
        long compacted = store.CompactedBelow;
        return request.StartVersion is { } rv && rv < compacted ? ApiStatus.TooOld(rv, compacted) : null;
    }

    private static string Render(ResourceType type, long rv, IEnumerable<StoredObject> items, string? continueToken, int remaining)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("kind", type.ListKind);
            json.WriteString("apiVersion", type.ApiVersion);
            json.WriteStartObject("metadata");
            json.WriteString("resourceVersion", rv.ToString(CultureInfo.InvariantCulture));
            if (continueToken is not null)
            {
                json.WriteString("continue", continueToken);
                json.WriteNumber("remainingItemCount", remaining);
            }
            json.WriteEndObject();
            json.WriteStartArray("items");
            foreach (var item in items)
                json.WriteRawValue(item.Json, skipInputValidation: true);
            json.WriteEndArray();
            json.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    private static string MakeToken(string id, int offset) =>
        Convert.ToBase64String(Encoding.UTF8.GetBytes($"{id}:{offset}"));

    private static bool TryReadToken(string token, out string id, out int offset)
    {
        id = "";
        offset = 0;
        try
        {
            var parts = Encoding.UTF8.GetString(Convert.FromBase64String(token)).Split(':');
            if (parts.Length != 2 || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out offset))
                return false;
            id = parts[0];
            return true;
        }
        catch (FormatException)
        {
            return false;
        }
    }
}
