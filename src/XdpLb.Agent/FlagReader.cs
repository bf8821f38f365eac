namespace XdpLb.Agent;

/// <summary>
/// Walks a command's flags: each flag in turn, and the value that follows one that takes it.
/// A value that is missing, or is the next flag, is a usage error naming the flag.
/// </summary>
internal sealed class FlagReader(IReadOnlyList<string> args, string usage)
{
    private int index = -1;

    /// <summary>The flag being read.</summary>
    public string Flag => args[index];

    public bool Next()
    {
        index++;
        return index < args.Count;
    }

    public string Value()
    {
        string flag = Flag;
        if (index + 1 >= args.Count || args[index + 1].StartsWith("--", StringComparison.Ordinal))
            throw new UsageException($"{flag} needs a value\n{usage}");
        return args[++index];
    }

    public UsageException Unknown() => new($"unknown flag \"{Flag}\"\n{usage}");
}
