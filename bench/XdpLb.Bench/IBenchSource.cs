namespace XdpLb.Bench;

/// <summary>Where the agent under test reads its services from, and a way to change them one backend at a time.</summary>
internal interface IBenchSource : IDisposable
{
    /// <summary>The `xdplb run` arguments that select this source (the node's flags come on top).</summary>
    string[] AgentArgs { get; }

    /// <summary>
    /// Takes the last backend of service <paramref name="service"/> away, or puts it back.
    /// Returns the wall-clock moment the source was told (the object applied, the file renamed into place).
    /// </summary>
    DateTime ChangeBackend(int service, bool remove);
}
