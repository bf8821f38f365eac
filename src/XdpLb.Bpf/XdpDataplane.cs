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
public sealed class XdpDataplane
{
    private readonly XdpLbProgram program;
    private readonly Dictionary<ServiceKey, Applied> applied = new();
    private readonly BackendIdAllocator backendIds;
    private readonly Queue<uint> releasedServiceIds = new();
    // Affinity timeout (seconds) of each persistent service, by service id.
    private readonly Dictionary<uint, uint> persistence = new();
    private uint nextServiceId;

    // SlotCounts[g]: how many slots generation g holds in the map now. ListOrder: the
    // service's dests in IPVS list order, which depends on the history of changes.
    // LastWeights: each dest's last non-zero weight, which mh fills its table by (§1.9).
    private sealed record Applied(uint Id, uint Generation, int[] SlotCounts, Service Service, IReadOnlyList<Backend> ListOrder,
        IReadOnlyDictionary<(System.Net.IPAddress, ushort), ushort> LastWeights);

    public XdpDataplane(XdpLbProgram program)
    {
        this.program = program;
        backendIds = new BackendIdAllocator(program.BackendConns.MaxEntries);
        Collector = new ConnectionCollector(program, serviceId => persistence.GetValueOrDefault(serviceId));
    }

    public ConnectionCollector Collector { get; }

    /// <summary>Applies every service of the config; services it does not list are removed.</summary>
    public void Apply(LbConfig config)
    {
        Collector.Timeouts = config.Timeouts;
        var wanted = config.Services.Where(s => s.Key is not null).ToDictionary(s => s.Key!);
        foreach (var key in applied.Keys.Where(k => !wanted.ContainsKey(k)).ToList())
            RemoveService(key);
        foreach (var (key, service) in wanted)
            ApplyService(key, service);
    }

    /// <summary>The id the data path counts a service's backend under.</summary>
    public uint BackendId(ServiceKey service, Backend backend) =>
        backendIds.TryGet(service, backend, out uint id) ? id : throw new KeyNotFoundException($"{backend} is not a backend of {service}");

    private void ApplyService(ServiceKey key, Service service)
    {
        applied.TryGetValue(key, out var previous);
        uint id = previous?.Id ?? AcquireServiceId();
        uint generation = previous is null ? 0 : previous.Generation ^ 1;
        var steps = IpvsListOrder.Steps(previous?.ListOrder ?? [], service.Backends);
        var listOrder = IpvsListOrder.Apply(previous?.ListOrder ?? [], steps);
        var ids = listOrder.Select(b => AcquireBackendId(key, b)).ToList();

        var lastWeights = listOrder.ToDictionary(b => (b.Address, b.Port), b => b.Weight > 0 ? b.Weight
            : previous?.LastWeights.GetValueOrDefault((b.Address, b.Port)) ?? (ushort)0);

        // rr steps through the dests it may pick; every other scheduler sees all dests at
        // their list positions, which its tables and tie-breaks refer to.
        var slots = service.Scheduler == Scheduler.Rr ? RoundRobin.Slots(listOrder) : Enumerable.Range(0, listOrder.Count).ToList();
        for (int i = 0; i < slots.Count; i++)
        {
            var backend = listOrder[slots[i]];
            program.BackendSlots.Update(
                new SlotKey { ServiceId = id, Generation = generation, Index = (uint)i },
                new BackendValue
                {
                    Addr = LbAddr.From(backend.Address),
                    Port = NetworkOrder.Port(backend.Port),
                    Weight = backend.Weight,
                    Family = NetworkOrder.Family(backend.Address.AddressFamily),
                    Id = ids[slots[i]],
                });
        }
        WriteTables(new TableKey { ServiceId = id, Generation = generation }, service, listOrder, lastWeights);
        for (int i = 0; i < listOrder.Count; i++)
            program.BackendStatus.Update(ids[i], new BackendStatus { ServiceId = id, WeightPlusOne = listOrder[i].Weight + 1u });
        int[] slotCounts = previous?.SlotCounts.ToArray() ?? [0, 0];
        // Slots past the new count in this generation are left from two changes ago.
        DeleteSlots(id, generation, slots.Count, slotCounts[generation]);
        slotCounts[generation] = slots.Count;
        // The rr and wrr cursors carry over as the kernel's would (a changed service is not reset).
        var state = default(SchedState);
        if (previous is not null)
            program.SchedStates.TryLookup(id, out state);
        program.SchedStates.Update(id, new SchedState
        {
            RrCounter = previous is null ? 0 : RoundRobin.TicketAfter(previous.ListOrder, state.RrCounter, steps),
            WrrPosition = WrrPositionAfter(previous?.ListOrder ?? [], state.WrrPosition, steps),
        });
        program.Services.Update(ToKey(key), new ServiceValue
        {
            Id = id,
            BackendCount = (uint)slots.Count,
            Generation = generation,
            Scheduler = (byte)service.Scheduler,
            Flags = (byte)(ServiceFlags(service) | (service.Persistence > 0 ? PersistentFlag : 0)),
        });
        applied[key] = new Applied(id, generation, slotCounts, service, listOrder, lastWeights);
        if (service.Persistence > 0)
            persistence[id] = service.Persistence;
        else
            persistence.Remove(id);
        if (previous is not null)
            ReleaseRemovedBackends(key, previous.Service, service);
    }

    private void RemoveService(ServiceKey key)
    {
        var previous = applied[key];
        program.Services.Delete(ToKey(key));
        for (uint g = 0; g < 2; g++)
        {
            DeleteSlots(previous.Id, g, 0, previous.SlotCounts[g]);
            program.BucketTables.Delete(new TableKey { ServiceId = previous.Id, Generation = g });
            program.MaglevTables.Delete(new TableKey { ServiceId = previous.Id, Generation = g });
            program.WrrTables.Delete(new TableKey { ServiceId = previous.Id, Generation = g });
        }
        applied.Remove(key);
        persistence.Remove(previous.Id);
        ReleaseRemovedBackends(key, previous.Service, previous.Service with { Backends = [] });
        releasedServiceIds.Enqueue(previous.Id);
    }

    // A removed backend's connections are expired at once, as kube-proxy configures IPVS
    // (expire_nodest_conn=1): UDP reschedules on its next packet, TCP is refused.
    private void ReleaseRemovedBackends(ServiceKey key, Service before, Service after)
    {
        var kept = after.Backends.Select(b => (b.Address, b.Port)).ToHashSet();
        foreach (var gone in before.Backends.Where(b => !kept.Contains((b.Address, b.Port))))
        {
            if (!backendIds.TryGet(key, gone, out uint id))
                continue;
            program.BackendStatus.Update(id, default);
            Collector.ExpireBackend(id);
            backendIds.Release(key, gone.Address, gone.Port);
        }
    }

    // The hashing schedulers' tables, built by the reference code itself (list index or -1).
    private void WriteTables(TableKey key, Service service, IReadOnlyList<Backend> listOrder,
        IReadOnlyDictionary<(System.Net.IPAddress, ushort), ushort> lastWeights)
    {
        int[]? buckets = service.Scheduler switch
        {
            Scheduler.Sh => SourceHashing.BuildTable(listOrder),
            Scheduler.Dh => DestinationHashing.BuildTable(listOrder),
            _ => null,
        };
        if (buckets is null)
        {
            program.BucketTables.Delete(key);
        }
        else
        {
            var table = default(BucketTable);
            for (int i = 0; i < buckets.Length; i++)
                table.Slots[i] = buckets[i] < 0 ? BucketTable.Empty : (ushort)buckets[i];
            program.BucketTables.Update(key, table);
        }

        if (service.Scheduler == Scheduler.Wrr)
            program.WrrTables.Update(key, BuildWrrTable(listOrder));
        else
            program.WrrTables.Delete(key);

        if (service.Scheduler != Scheduler.Mh)
        {
            program.MaglevTables.Delete(key);
            return;
        }
        int[] maglev = Maglev.BuildTable(listOrder, listOrder.Select(b => lastWeights[(b.Address, b.Port)]).ToList());
        var mh = default(MaglevTable);
        ((Span<ushort>)mh.Slots).Fill(BucketTable.Empty);
        for (int i = 0; i < maglev.Length; i++)
            mh.Slots[i] = maglev[i] < 0 ? BucketTable.Empty : (ushort)maglev[i];
        program.MaglevTables.Update(key, mh);
    }

    private static WrrTable BuildWrrTable(IReadOnlyList<Backend> listOrder)
    {
        var model = IpvsWeightedRoundRobinModel.FromState(listOrder, -1, 0);
        var table = new WrrTable { MaxWeight = (uint)Math.Max(model.MaxWeight, 0), Step = (uint)model.WeightStep };
        for (int i = 0; i < listOrder.Count; i++)
        {
            table.Weights[i] = listOrder[i].Weight;
            ref ushort blockMax = ref table.BlockMax[i / WrrTable.Block];
            blockMax = Math.Max(blockMax, listOrder[i].Weight);
        }
        return table;
    }

    // ip_vs_wrr's (cl, cw) after the steps, each running the dest_changed hook.
    private static ulong WrrPositionAfter(IReadOnlyList<Backend> oldListOrder, ulong position, IReadOnlyList<IpvsListOrder.Step> steps)
    {
        var model = IpvsWeightedRoundRobinModel.FromState(oldListOrder, (int)(uint)position - 1, (int)(position >> 32));
        IpvsListOrder.Replay(steps, model);
        return ((ulong)(uint)model.CurrentWeight << 32) | (uint)(model.Cursor + 1);
    }

    private const int PersistentFlag = 0x01; // IP_VS_SVC_F_PERSISTENT

    // IPVS's svc flag bits: SCHED1 (0x08) is sh-/mh-fallback, SCHED2 (0x10) sh-/mh-port.
    private static byte ServiceFlags(Service service) => (byte)service.Flags.Aggregate(0, (flags, f) => flags | f switch
    {
        SchedulerFlag.ShFallback or SchedulerFlag.MhFallback => 0x08,
        _ => 0x10,
    });

    private uint AcquireBackendId(ServiceKey service, Backend backend)
    {
        uint id = backendIds.Acquire(service, backend, out bool fresh);
        if (fresh)
        {
            program.BackendConns[id] = default;
            program.BackendTraffic.Clear(id);
        }
        return id;
    }

    private uint AcquireServiceId()
    {
        if (releasedServiceIds.TryDequeue(out uint id))
            return id;
        if (nextServiceId >= program.SchedStates.MaxEntries)
            throw new InvalidOperationException($"no service id left: limits.services is {program.SchedStates.MaxEntries}");
        return nextServiceId++;
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
            Protocol.Tcp => 6,
            Protocol.Udp => 17,
            _ => 132, // IPPROTO_SCTP
        },
        Family = NetworkOrder.Family(key.Address.AddressFamily),
    };
}
