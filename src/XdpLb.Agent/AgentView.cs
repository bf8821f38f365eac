using XdpLb.Api;
using XdpLb.Api.V1;
using XdpLb.Bpf;
using XdpLb.Core.Model;
using XdpLb.Core.Status;

namespace XdpLb.Agent;

/// <summary>The local API's view of the running XDP agent; reads under the dataplane's lock.</summary>
internal sealed class AgentView(SyncLoop syncLoop, XdpLbProgram program, XdpDataplane dataplane, Func<IReadOnlyList<Attachment>> attachments,
    string configFile, SockLbProgram? sock = null) : IAgentView
{
    private readonly DateTime started = DateTime.UtcNow;
    private readonly BackendRates rates = new(program, dataplane);

    /// <summary>Takes a counter sample for the rates (every 2 s, like IPVS's estimator).</summary>
    public void SampleRates() => syncLoop.Read(() => rates.Sample(DateTime.UtcNow));

    public AgentStatus Status() => syncLoop.Read(() =>
    {
        var status = new AgentStatus
        {
            Version = typeof(AgentView).Assembly.GetName().Version?.ToString() ?? "",
            Dataplane = "xdp",
            ConnectionTableSize = program.Conntrack.MaxEntries / 2,
            Services = (uint)dataplane.Applied.Count,
            Backends = (uint)dataplane.Applied.Values.Sum(s => s.Backends.Count),
            Connections = (uint)program.LiveConnections(),
            ConfigFile = configFile,
            StartedUnixMs = new DateTimeOffset(started).ToUnixTimeMilliseconds(),
            LastSyncUnixMs = new DateTimeOffset(syncLoop.LastSync).ToUnixTimeMilliseconds(),
        };
        status.Interfaces.AddRange(attachments());
        return status;
    });

    public ListServicesResponse Services() => syncLoop.Read(() =>
    {
        var response = new ListServicesResponse { ConnectionTableSize = program.Conntrack.MaxEntries / 2, Dataplane = "xdp" };
        response.Services.AddRange(ReadServices().Select(s => ApiMapping.ToApi(s, NameOf(s))));
        return response;
    });

    public ListConnectionsResponse Connections() => syncLoop.Read(() =>
    {
        var response = new ListConnectionsResponse();
        response.Connections.AddRange(XdpStatusReader.Connections(program, dataplane).Select(ApiMapping.ToApi));
        return response;
    });

    public GetStatsResponse Stats(string? service) => syncLoop.Read(() =>
    {
        var response = new GetStatsResponse { Dataplane = "xdp" };
        response.Services.AddRange(ReadServices()
            .Where(s => service is null || new ServiceKey(s.Address, s.Port, s.Protocol).ToString() == service)
            .Select(s => ApiMapping.ToApi(s, NameOf(s))));
        foreach (var (counter, value) in program.ReadCounters())
            response.Counters[Bpf.Btf.BtfNames.SnakeCase(counter.ToString())] = value;
        foreach (var (e, value) in program.ReadConntrackEvents())
            response.Counters["conntrack_" + Bpf.Btf.BtfNames.SnakeCase(e.ToString())] = value;
        foreach (var (counter, value) in sock?.ReadCounters() ?? new Dictionary<Bpf.Maps.SockCounter, ulong>())
            response.Counters["sock_" + Bpf.Btf.BtfNames.SnakeCase(counter.ToString())] = value;
        return response;
    });

    private List<VirtualServer> ReadServices() => XdpStatusReader.Services(program, dataplane, rates.RateOf, sock);

    private string? NameOf(VirtualServer s) =>
        dataplane.Applied.TryGetValue(new ServiceKey(s.Address, s.Port, s.Protocol), out var service) ? service.Name : null;
}
