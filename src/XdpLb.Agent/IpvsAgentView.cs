using XdpLb.Api;
using XdpLb.Api.V1;
using XdpLb.Core.Model;
using XdpLb.Core.Status;
using XdpLb.Ipvs;

namespace XdpLb.Agent;

/// <summary>The local API's view of an agent on the IPVS dataplane: the kernel's own tables and counters.</summary>
internal sealed class IpvsAgentView(SyncLoop syncLoop, IpvsSyncHooks syncHooks, IpvsClient client, string configFile) : IAgentView
{
    private readonly DateTime started = DateTime.UtcNow;
    private readonly uint tableSize = client.GetInfo().ConnectionTableSize;

    public AgentStatus Status() => syncLoop.Read(() => new AgentStatus
    {
        Version = typeof(IpvsAgentView).Assembly.GetName().Version?.ToString() ?? "",
        Dataplane = "ipvs",
        ConnectionTableSize = tableSize,
        Services = (uint)syncHooks.Dataplane.Applied.Count,
        Backends = (uint)syncHooks.Dataplane.Applied.Values.Sum(s => s.Backends.Count),
        Connections = (uint)IpvsConnections.Read().Count,
        ConfigFile = configFile,
        StartedUnixMs = new DateTimeOffset(started).ToUnixTimeMilliseconds(),
        LastSyncUnixMs = new DateTimeOffset(syncLoop.LastSync).ToUnixTimeMilliseconds(),
    });

    public ListServicesResponse Services() => syncLoop.Read(() =>
    {
        var response = new ListServicesResponse { ConnectionTableSize = tableSize, Dataplane = "ipvs" };
        response.Services.AddRange(IpvsStatus.Services(syncHooks.Ipvs).Select(s => ApiMapping.ToApi(s, NameOf(s))));
        return response;
    });

    public ListConnectionsResponse Connections()
    {
        var response = new ListConnectionsResponse();
        response.Connections.AddRange(IpvsConnections.Read().Select(ApiMapping.ToApi));
        return response;
    }

    public GetStatsResponse Stats(string? service) => syncLoop.Read(() =>
    {
        var response = new GetStatsResponse { Dataplane = "ipvs" };
        response.Services.AddRange(IpvsStatus.Services(syncHooks.Ipvs)
            .Where(s => service is null || new ServiceKey(s.Address, s.Port, s.Protocol).ToString() == service)
            .Select(s => ApiMapping.ToApi(s, NameOf(s))));
        return response;
    });

    private string? NameOf(VirtualServer s) =>
        syncHooks.Dataplane.Applied.TryGetValue(new ServiceKey(s.Address, s.Port, s.Protocol), out var service) ? service.Name : null;
}
