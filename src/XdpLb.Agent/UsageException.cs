namespace XdpLb.Agent;

/// <summary>A command line that cannot be run as given.</summary>
internal sealed class UsageException(string message) : Exception(message);
