using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace XdpLb.Kubernetes;

/// <summary>
/// Typed reads from a kube-proxy configuration tree that collect every problem, each as
/// "line N: field.path: what is wrong", so the whole file is fixed in one pass.
/// </summary>
internal sealed class KubeProxyYamlReader
{
    public List<string> Errors { get; } = [];

    public void Error(YamlNode node, string path, string message) =>
        Errors.Add($"line {node.Start.Line}: {path}: {message}");

    /// <summary>YAML's null (the key's value left empty, ~ or null): the field is unset, as Go's decoder treats it.</summary>
    public static bool IsNull(YamlNode node) =>
        node is YamlScalarNode { Style: ScalarStyle.Plain or ScalarStyle.Any, Value: null or "" or "~" or "null" or "Null" or "NULL" };

    public YamlMappingNode? Mapping(YamlNode node, string path)
    {
        if (IsNull(node))
            return null;
        if (node is YamlMappingNode mapping)
            return mapping;
        Error(node, path, $"expected a mapping, found {Describe(node)}");
        return null;
    }

    /// <summary>The mapping's entries by key; keys outside <paramref name="known"/> are errors when <paramref name="known"/> is given.</summary>
    public Dictionary<string, YamlNode> Entries(YamlMappingNode mapping, string path, IReadOnlySet<string>? known)
    {
        var result = new Dictionary<string, YamlNode>(StringComparer.Ordinal);
        foreach (var (keyNode, value) in mapping.Children)
        {
            string key = (keyNode as YamlScalarNode)?.Value ?? "";
            string keyPath = path.Length == 0 ? key : $"{path}.{key}";
            if (known is not null && !known.Contains(key))
                Error(keyNode, keyPath, $"unknown field (a KubeProxyConfiguration v1alpha1 {(path.Length == 0 ? "" : path + " ")}has: {string.Join(", ", known.Order(StringComparer.Ordinal))})");
            else if (!result.TryAdd(key, value))
                Error(keyNode, keyPath, "appears twice");
        }
        return result;
    }

    public string? String(YamlNode node, string path)
    {
        if (IsNull(node))
            return null;
        if (node is YamlScalarNode scalar)
            return scalar.Value ?? "";
        Error(node, path, $"expected a string, found {Describe(node)}");
        return null;
    }

    public bool? Boolean(YamlNode node, string path)
    {
        if (IsNull(node))
            return null;
        switch (String(node, path))
        {
            case null:
                return null;
            case "true" or "True" or "TRUE":
                return true;
            case "false" or "False" or "FALSE":
                return false;
            case var text:
                Error(node, path, $"\"{text}\" is not true or false");
                return null;
        }
    }

    /// <summary>A Go duration string; null when unset or malformed (then an error is recorded).</summary>
    public TimeSpan? Duration(YamlNode node, string path)
    {
        string? text = String(node, path);
        if (text is null)
            return null;
        if (GoDuration.TryParse(text, out var value))
            return value;
        Error(node, path, $"\"{text}\" is not a duration (e.g. \"900s\", \"15m\", \"1h2m3s\", \"0s\")");
        return null;
    }

    public List<(YamlNode Node, string Text)>? StringList(YamlNode node, string path)
    {
        if (IsNull(node))
            return null;
        if (node is not YamlSequenceNode sequence)
        {
            Error(node, path, $"expected a list, found {Describe(node)}");
            return null;
        }
        var result = new List<(YamlNode, string)>();
        for (int i = 0; i < sequence.Children.Count; i++)
        {
            if (String(sequence.Children[i], $"{path}[{i}]") is { } text)
                result.Add((sequence.Children[i], text));
        }
        return result;
    }

    private static string Describe(YamlNode node) => node switch
    {
        YamlMappingNode => "a mapping",
        YamlSequenceNode => "a list",
        YamlScalarNode s => $"\"{s.Value}\"",
        _ => node.NodeType.ToString(),
    };
}
