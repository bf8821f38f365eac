namespace XdpLb.Agent;

/// <summary>A command line that cannot be run as given; with <paramref name="showUsage"/>, the command's help follows the message.</summary>
internal sealed class UsageException(string message, bool showUsage = false) : Exception(message)
{
    public bool ShowUsage { get; } = showUsage;
}
