namespace XdpLb.Core.Config;

/// <summary>An invalid configuration: every problem found, each naming where and what.</summary>
public sealed class ConfigException(string source, IReadOnlyList<string> errors)
    : Exception($"{source}: {errors.Count} error(s):{Environment.NewLine}  " + string.Join(Environment.NewLine + "  ", errors))
{
    public IReadOnlyList<string> Errors { get; } = errors;
}
