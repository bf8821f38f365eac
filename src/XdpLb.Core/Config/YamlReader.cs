using System.Globalization;
using YamlDotNet.RepresentationModel;

namespace XdpLb.Core.Config;

/// <summary>
/// Typed reads from a YAML tree that record a message (with line and path) for every
/// problem instead of stopping at the first, so a user fixes a file in one pass.
/// </summary>
internal sealed class YamlReader
{
    public List<string> Errors { get; } = [];

    public void Error(YamlNode? node, string path, string message) =>
        Errors.Add(node is null ? $"{path}: {message}" : $"line {node.Start.Line}: {path}: {message}");

    public YamlMappingNode? Mapping(YamlNode node, string path)
    {
        if (node is YamlMappingNode mapping)
            return mapping;
        Error(node, path, $"expected a mapping, found {Describe(node)}");
        return null;
    }

    public YamlSequenceNode? Sequence(YamlNode node, string path)
    {
        if (node is YamlSequenceNode sequence)
            return sequence;
        if (node is YamlScalarNode { Value: null or "" or "~" or "null" } )
            return new YamlSequenceNode();
        Error(node, path, $"expected a list, found {Describe(node)}");
        return null;
    }

    public string? Scalar(YamlNode node, string path)
    {
        if (node is YamlScalarNode scalar)
            return scalar.Value ?? "";
        Error(node, path, $"expected a single value, found {Describe(node)}");
        return null;
    }

    /// <summary>Reports keys outside the allowed set and returns the mapping's entries by name.</summary>
    public Dictionary<string, YamlNode> Keys(YamlMappingNode mapping, string path, params string[] allowed)
    {
        var result = new Dictionary<string, YamlNode>();
        foreach (var (keyNode, value) in mapping.Children)
        {
            string key = (keyNode as YamlScalarNode)?.Value ?? "";
            if (!allowed.Contains(key))
                Error(keyNode, path, $"unknown key \"{key}\" (expected one of: {string.Join(", ", allowed)})");
            else if (!result.TryAdd(key, value))
                Error(keyNode, path, $"key \"{key}\" appears twice");
        }
        return result;
    }

    public ulong? Integer(YamlNode node, string path, ulong min, ulong max)
    {
        string? text = Scalar(node, path);
        if (text is null)
            return null;
        if (!ulong.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out ulong value) || value < min || value > max)
        {
            Error(node, path, $"\"{text}\" is not an integer from {min} to {max}");
            return null;
        }
        return value;
    }

    public bool? Boolean(YamlNode node, string path)
    {
        string? text = Scalar(node, path);
        switch (text)
        {
            case null:
                return null;
            case "true":
                return true;
            case "false":
                return false;
            default:
                Error(node, path, $"\"{text}\" is not true or false");
                return null;
        }
    }

    /// <summary>A duration (integer seconds or "15m"-style); whole seconds when <paramref name="wholeSeconds"/>.</summary>
    public TimeSpan? Duration(YamlNode node, string path, bool wholeSeconds)
    {
        string? text = Scalar(node, path);
        if (text is null)
            return null;
        if (!Durations.TryParse(text, out var value))
        {
            Error(node, path, $"\"{text}\" is not a duration (integer seconds, or e.g. \"900s\", \"15m\", \"1h\")");
            return null;
        }
        if (wholeSeconds && value.Ticks % TimeSpan.TicksPerSecond != 0)
        {
            Error(node, path, $"\"{text}\" is not a whole number of seconds");
            return null;
        }
        return value;
    }

    public T? Choice<T>(YamlNode node, string path, string what) where T : struct, Enum
    {
        string? text = Scalar(node, path);
        if (text is null)
            return null;
        if (Model.Names.TryParse<T>(text, out T value))
            return value;
        Error(node, path, $"\"{text}\" is not a {what} (one of: {Model.Names.All<T>()})");
        return null;
    }

    private static string Describe(YamlNode node) => node switch
    {
        YamlMappingNode => "a mapping",
        YamlSequenceNode => "a list",
        YamlScalarNode s => $"\"{s.Value}\"",
        _ => node.NodeType.ToString(),
    };
}
