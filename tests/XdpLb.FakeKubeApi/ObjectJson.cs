using System.Globalization;
using System.Text.Json.Nodes;
using k8s;
using k8s.Models;

namespace XdpLb.FakeKubeApi;

/// <summary>The JSON the fake stores and sends: objects stamped as the API server would, and watch event lines.</summary>
internal static class ObjectJson
{
    /// <summary>
    /// A deep copy of <paramref name="obj"/> as the stored version <paramref name="rv"/>: apiVersion and
    /// kind set, namespace defaulted, uid and creationTimestamp kept from the previous version or made up.
    /// </summary>
    public static StoredObject Stamp(ResourceType type, IKubernetesObject<V1ObjectMeta> obj, long rv, StoredObject? previous)
    {
        var root = JsonNode.Parse(KubernetesJson.Serialize(obj))!.AsObject();
        root["apiVersion"] = type.ApiVersion;
        root["kind"] = type.Kind;
        if (root["metadata"] is not JsonObject meta)
            root["metadata"] = meta = new JsonObject();

        string name = meta["name"]?.GetValue<string>() is { Length: > 0 } n
            ? n : throw new ArgumentException($"a {type.Kind} needs metadata.name", nameof(obj));
        string ns = "";
        if (type.Namespaced)
            meta["namespace"] = ns = meta["namespace"]?.GetValue<string>() is { Length: > 0 } given ? given : "default";
        else
            meta.Remove("namespace");

        var previousMeta = previous is null ? null : JsonNode.Parse(previous.Json)!["metadata"];
        if (meta["uid"] is null)
            meta["uid"] = previousMeta?["uid"]?.GetValue<string>() ?? Guid.NewGuid().ToString();
        if (meta["creationTimestamp"] is null)
            meta["creationTimestamp"] = previousMeta?["creationTimestamp"]?.GetValue<string>()
                ?? DateTime.UtcNow.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
        meta["resourceVersion"] = rv.ToString(CultureInfo.InvariantCulture);

        var labels = new Dictionary<string, string>(StringComparer.Ordinal);
        if (meta["labels"] is JsonObject labelObject)
            foreach (var (key, value) in labelObject)
                labels[key] = value?.GetValue<string>() ?? "";

        return new StoredObject(type, ns, name, labels, rv, root.ToJsonString());
    }

    /// <summary>The same object with another resourceVersion, as a deletion event carries it.</summary>
    public static StoredObject WithResourceVersion(StoredObject obj, long rv)
    {
        var root = JsonNode.Parse(obj.Json)!.AsObject();
        root["metadata"]!["resourceVersion"] = rv.ToString(CultureInfo.InvariantCulture);
        return obj with { ResourceVersion = rv, Json = root.ToJsonString() };
    }

    /// <summary>A BOOKMARK's object: only kind, apiVersion and metadata.resourceVersion.</summary>
    public static string Bookmark(ResourceType type, long rv) => new JsonObject
    {
        ["kind"] = type.Kind,
        ["apiVersion"] = type.ApiVersion,
        ["metadata"] = new JsonObject { ["resourceVersion"] = rv.ToString(CultureInfo.InvariantCulture) },
    }.ToJsonString();

    /// <summary>One line of a watch stream.</summary>
    public static string EventLine(string type, string objectJson) =>
        $"{{\"type\":\"{type}\",\"object\":{objectJson}}}\n";
}
