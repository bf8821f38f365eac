using XdpLb.Api;

namespace XdpLb.Agent;

/// <summary>
/// What the selector started on the dataplane it chose (program, links, hooks, sync loop, the
/// API's view): it forwards until the agent stops.
/// </summary>
internal interface IForwarder : IDisposable
{
    SyncLoop SyncLoop { get; }
    IAgentView View { get; }
    /// <summary>Takes a sample for the API's rates every 2 s; null where the kernel keeps the rates (IPVS).</summary>
    Action? SampleRates { get; }
    /// <summary>The stop's own work before the resources go: the exit summary, and what --detach-on-exit removes.</summary>
    void Stop();
}
