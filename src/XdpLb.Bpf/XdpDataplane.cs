using System.Net.Sockets;
using XdpLb.Bpf.Maps;
using XdpLb.Core.Model;
using XdpLb.Core.Scheduling;

namespace XdpLb.Bpf;

/// <summary>
/// Writes services into the data path's maps. A service's backend set is replaced by
/// writing the idle slot generation first and then flipping the service entry, so a
/// packet sees the old set or the new one, never a mix. The generation that goes idle is
/// left intact until the next change, so a packet that read the service entry just
/// before the flip still finds its slot (bpf/README.md).
/// </summary>
public sealed class XdpDataplane(XdpLbProgram program)
{
    private readonly Dictionary<ServiceKey, Applied> applied = new();
    private uint nextServiceId;
    private uint nextBackendId;

    // SlotCounts[g]: how many slots generation g holds in the map now.
    private sealed record Applied(uint Id, uint Generation, int[] SlotCounts, IReadOnlyList<uint> BackendIds);

    /// <summary>Applies every service of the config; services it does not list are removed.</summary>
    public void Apply(LbConfig config)
    {
        var wanted = config.Services.Where(s => s.Key is not null).ToDictionary(s => s.Key!);
        foreach (var (key, service) in wanted)
            ApplyService(key, service);
        foreach (var key in applied.Keys.Where(k => !wanted.ContainsKey(k)).ToList())
            RemoveService(key);
    }

    /// <summary>The backend id the data path counts a service's listed backend under.</summary>
    public uint BackendId(ServiceKey service, int listedIndex) => applied[service].BackendIds[listedIndex];

    private void ApplyService(ServiceKey key, Service service)
    {
        applied.TryGetValue(key, out var previous);
        uint id = previous?.Id ?? nextServiceId++;
        uint generation = previous is null ? 0 : previous.Generation ^ 1;
        var backendIds = service.Backends.Select(_ => nextBackendId++).ToList();

        var slots = RoundRobin.Slots(service.Backends);
        for (int i = 0; i < slots.Count; i++)
        {
            var backend = service.Backends[slots[i]];
            program.BackendSlots.Update(
                new SlotKey { ServiceId = id, Generation = generation, Index = (uint)i },
                new BackendValue
                {
                    Addr = LbAddr.From(backend.Address),
                    Port = NetworkOrder.Port(backend.Port),
                    Family = NetworkOrder.Family(backend.Address.AddressFamily),
                    Id = backendIds[slots[i]],
                });
        }
        int[] slotCounts = previous?.SlotCounts.ToArray() ?? [0, 0];
        // Slots past the new count in this generation are left from two changes ago.
        DeleteSlots(id, generation, slots.Count, slotCounts[generation]);
        slotCounts[generation] = slots.Count;
        if (previous is null)
            program.SchedStates.Update(id, default);
        program.Services.Update(ToKey(key), new ServiceValue
        {
            Id = id,
            BackendCount = (uint)slots.Count,
            Generation = generation,
            Scheduler = (byte)service.Scheduler,
        });
        applied[key] = new Applied(id, generation, slotCounts, backendIds);
    }

    private void RemoveService(ServiceKey key)
    {
        var previous = applied[key];
        program.Services.Delete(ToKey(key));
        for (uint g = 0; g < 2; g++)
            DeleteSlots(previous.Id, g, 0, previous.SlotCounts[g]);
        applied.Remove(key);
    }

    private void DeleteSlots(uint serviceId, uint generation, int from, int to)
    {
        for (int i = from; i < to; i++)
            program.BackendSlots.Delete(new SlotKey { ServiceId = serviceId, Generation = generation, Index = (uint)i });
    }

    public static ServiceMapKey ToKey(ServiceKey key) => new()
    {
        Addr = LbAddr.From(key.Address),
        Port = NetworkOrder.Port(key.Port),
        Proto = key.Protocol switch
        {
            Protocol.Tcp => (byte)ProtocolType.Tcp,
            Protocol.Udp => (byte)ProtocolType.Udp,
            _ => 132, // IPPROTO_SCTP
        },
        Family = NetworkOrder.Family(key.Address.AddressFamily),
    };
}
