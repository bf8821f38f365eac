using XdpLb.Api.V1;

namespace XdpLb.Api;

/// <summary>What the local API reads from the running agent; the dataplane behind it does not matter.</summary>
public interface IAgentView
{
    AgentStatus Status();
    ListServicesResponse Services();
    ListConnectionsResponse Connections();
    /// <param name="service">"ADDR:PORT/PROTO", or null for every service.</param>
    GetStatsResponse Stats(string? service);
}
