using System.Net;
using XdpLb.Bpf.Maps;
using XdpLb.Core.Model;

namespace XdpLb.Bpf;

// Taking over from an earlier agent: the state it saved, or a clean service side without it.
public sealed partial class XdpDataplane
{
    /// <summary>
    /// Empties the service side of adopted maps whose state is lost (services, slots,
    /// tables, backend status, affinity). Connections stay: they carry their own rewrite.
    /// </summary>
    public void ClearServices()
    {
        program.Services.Clear();
        program.BackendSlots.Clear();
        program.BucketTables.Clear();
        program.MaglevTables.Clear();
        program.WrrTables.Clear();
        program.Affinity.Clear();
        program.SourceRanges.Clear();
        for (uint id = 0; id < program.BackendStatus.MaxEntries; id++)
            program.BackendStatus[id] = new BackendStatus { Epoch = program.BackendStatus[id].Epoch };
    }

    /// <summary>Everything needed to continue from the maps as they are (saved in --state-dir).</summary>
    public XdpDataplaneState ExportState() => new(
        XdpDataplaneState.CurrentVersion,
        applied.Values.Select(a => new XdpDataplaneState.AppliedDto(
            ServiceRecord.Of(a.Service), a.Id, a.Generation, a.SlotCounts.ToArray(),
            a.ListOrder.Select(ServiceRecord.Of).ToArray(),
            a.ListOrder.Select(b => a.LastWeights[(b.Address, b.Port)]).ToArray())).ToArray(),
        backendIds.All.Select(e => new XdpDataplaneState.BackendIdDto(
            e.Service.Address.ToString(), e.Service.Port, Names.Of(e.Service.Protocol), e.Address.ToString(), e.Port, e.Id)).ToArray(),
        backendIds.Released.ToArray(),
        backendIds.Next,
        releasedServiceIds.ToArray(),
        nextServiceId);

    /// <summary>Continues from the state an earlier agent saved, over the maps it left pinned.</summary>
    public void ImportState(XdpDataplaneState state)
    {
        applied.Clear();
        appliedServices.Clear();
        foreach (var a in state.Services)
        {
            var service = a.Service.ToService();
            var listOrder = a.ListOrder.Select(ServiceRecord.ToBackend).ToList();
            var lastWeights = listOrder.Select((b, i) => (b, i)).ToDictionary(x => (x.b.Address, x.b.Port), x => a.LastWeights[x.i]);
            applied[service.Key!] = new AppliedService(a.Id, a.Generation, a.SlotCounts.ToArray(), service, listOrder, lastWeights, HadTables: true);
            appliedServices[service.Key!] = service;
            program.AffinityTimeouts.Update(a.Id, service.Persistence);
        }
        backendIds.Restore(state.BackendIds.Select(b => (
            new ServiceKey(IPAddress.Parse(b.ServiceAddress), b.ServicePort, Names.TryParse<Protocol>(b.ServiceProtocol, out var p) ? p : Protocol.Tcp),
            IPAddress.Parse(b.Address), b.Port, b.Id)), state.ReleasedBackendIds, state.NextBackendId);
        releasedServiceIds.Clear();
        foreach (var id in state.ReleasedServiceIds)
            releasedServiceIds.Enqueue(id);
        nextServiceId = state.NextServiceId;
    }
}
