using XdpLb.Api;

namespace XdpLb.Agent;

/// <summary>The dataplane the selector started, serving until the agent stops.</summary>
internal interface IServingDataplane : IDisposable
{
    SyncLoop SyncLoop { get; }
    IAgentView View { get; }
    /// <summary>Takes a sample for the API's rates every 2 s; null where the kernel keeps the rates (IPVS).</summary>
    Action? SampleRates { get; }
    /// <summary>The stop's own work before the resources go: the exit summary, and what --detach-on-exit removes.</summary>
    void Stop();
}
