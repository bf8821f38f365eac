using System.Net;
using XdpLb.Bpf.Maps;
using XdpLb.Core.Model;
using XdpLb.Core.Reconcile;
using XdpLb.Core.Scheduling;

namespace XdpLb.Bpf;

/// <summary>
/// The XDP dataplane: writes services into the data path's maps, one service at a time. A
/// service's backend set is replaced by writing the idle slot generation first and then
/// flipping the service entry, so a packet sees the old set or the new one, never a mix.
/// The generation that goes idle is left intact until the next change, so a packet that
/// read the service entry just before the flip still finds its slot (bpf/README.md).
/// </summary>
public sealed partial class XdpDataplane : IDataplane
{
    private readonly XdpLbProgram program;
    private readonly Dictionary<ServiceKey, AppliedService> applied = new();
    // The services as applied, kept beside `applied` so the reconciler reads them without a copy.
    private readonly Dictionary<ServiceKey, Service> appliedServices = new();
    private readonly BackendIdAllocator backendIds;
    private readonly Queue<uint> releasedServiceIds = new();
    // Affinity timeout (seconds) of each persistent service, by service id.
    private uint nextServiceId;

    // SlotCounts[g]: how many slots generation g holds in the map now. ListOrder: the
    // service's dests in IPVS list order, which depends on the history of changes.
    // LastWeights: each dest's last non-zero weight, which mh fills its table by (docs/ipvs.md §2.9).
    // HadTables: the service has used a scheduler with a table, so one may exist to delete.
    private sealed record AppliedService(uint Id, uint Generation, int[] SlotCounts, Service Service, IReadOnlyList<Backend> ListOrder,
        IReadOnlyDictionary<(IPAddress, ushort), ushort> LastWeights, bool HadTables)
    {
        // What the maps hold for it, built once: the drift check compares against it every
        // syncPeriod, and building it anew for 10,000 services was most of an idle full sync.
        public ExpectedEntries? Expected { get; set; }
    }

    private sealed record ExpectedEntries(ServiceValue Service, KeyValuePair<SlotKey, BackendValue>[] Slots, SchedulerTables Tables);

    public XdpDataplane(XdpLbProgram program)
    {
        this.program = program;
        backendIds = new BackendIdAllocator(program.BackendConns.MaxEntries);
        Sweeper = new ConnectionSweeper(program);
    }

    public ConnectionSweeper Sweeper { get; }

    /// <summary>Called when a backend id passes to another backend: counters kept elsewhere by id (the socket hooks') start over.</summary>
    public Action<uint>? BackendIdReused { get; set; }

    public IReadOnlyDictionary<ServiceKey, Service> Applied => appliedServices;

    /// <summary>Brings the maps to the config (only what differs is written).</summary>
    public SyncResult Apply(LbConfig config) => new Reconciler(this).Sync(config, full: false);

    public void SetTimeouts(Timeouts timeouts) => Sweeper.Timeouts = timeouts;

    // Connections keep the port they were given; a new range applies to new connections.
    public void SetMasquerade(MasqSettings masq) =>
        program.MasqPorts.Update(0, new MasqPortRange { Min = masq.PortRange.First, Max = masq.PortRange.Last });

    /// <summary>
    /// The pods' ranges, in the source-range trie under ids no service has (one per family).
    /// Every entry under those ids that is not wanted goes, also those an earlier agent left
    /// in pinned maps for a clusterCIDR that changed since.
    /// </summary>
    public void SetClusterCidrs(IReadOnlyList<string> cidrs)
    {
        var wanted = cidrs.Select(c => ClusterRangeKey(IPNetwork.Parse(c))).ToHashSet();
        foreach (var key in wanted)
            program.SourceRanges.Update(key, 1);
        foreach (var key in program.SourceRanges.Keys().Where(k => k.ServiceId is ClusterCidrsV4Id or ClusterCidrsV6Id && !wanted.Contains(k)))
            program.SourceRanges.Delete(key);
    }

    // bpf/lib/source_ranges.h's CLUSTER_CIDRS_V4_ID/_V6_ID: service ids are array indexes, far below them.
    private const uint ClusterCidrsV4Id = 0xffffffff, ClusterCidrsV6Id = 0xfffffffe;

    private static SourceRangeKey ClusterRangeKey(IPNetwork network) => new()
    {
        Prefixlen = 32u + (uint)network.PrefixLength,
        ServiceId = network.BaseAddress.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? ClusterCidrsV6Id : ClusterCidrsV4Id,
        Addr = LbAddr.From(network.BaseAddress),
    };

    /// <summary>One past the highest backend id in use: the range counters need to be read for.</summary>
    public uint BackendIdLimit => backendIds.Next;

    /// <summary>The id the data path counts a service's backend under.</summary>
    public uint BackendId(ServiceKey service, Backend backend) =>
        backendIds.TryGet(service, backend, out uint id) ? id : throw new KeyNotFoundException($"{backend} is not a backend of {service}");

    public void ApplyService(Service service)
    {
        var key = service.Key ?? throw new ArgumentException($"{service.Label} has no address", nameof(service));
        applied.TryGetValue(key, out var previous);
        uint id = previous?.Id ?? AcquireServiceId();
        uint generation = previous is null ? 0 : previous.Generation ^ 1;
        var steps = IpvsListOrder.Steps(previous?.ListOrder ?? [], service.Backends);
        var listOrder = IpvsListOrder.Apply(previous?.ListOrder ?? [], steps);
        foreach (var b in listOrder)
            AcquireBackendId(key, b);
        var lastWeights = listOrder.ToDictionary(b => (b.Address, b.Port), b => b.Weight > 0 ? b.Weight
            : previous?.LastWeights.GetValueOrDefault((b.Address, b.Port)) ?? (ushort)0);
        int[] slotCounts = previous?.SlotCounts.ToArray() ?? [0, 0];
        var next = new AppliedService(id, generation, slotCounts, service, listOrder, lastWeights,
            (previous?.HadTables ?? false) || SchedulerTables.Uses(service.Scheduler));

        var expected = next.Expected = ExpectedFor(key, next);
        var slots = expected.Slots;
        program.BackendSlots.UpdateBatch(slots.Select(s => s.Key).ToArray(), slots.Select(s => s.Value).ToArray());
        // Slots past the new count in this generation are left from two changes ago.
        DeleteSlots(id, generation, slots.Length, slotCounts[generation]);
        slotCounts[generation] = slots.Length;
        AddSourceRanges(id, service.SourceRanges);
        // A service that never had a table has none to delete: skip three syscalls.
        if (next.HadTables)
            expected.Tables.Write(program, new TableKey { ServiceId = id, Generation = generation });
        foreach (var b in listOrder)
        {
            ref var status = ref program.BackendStatus[BackendId(key, b)];
            status.ServiceId = id;
            status.WeightPlusOne = b.Weight + 1u;
        }

        // The rr and wrr cursors carry over as the kernel's would (a changed service is not reset).
        var state = default(SchedState);
        if (previous is not null)
            program.SchedStates.TryLookup(id, out state);
        program.SchedStates.Update(id, new SchedState
        {
            RrCounter = previous is null ? 0 : RoundRobin.TicketAfter(previous.ListOrder, state.RrCounter, steps),
            WrrPosition = WrrPositionAfter(previous?.ListOrder ?? [], state.WrrPosition, steps),
        });
        // Before the service: templates are judged by it from the first connection on.
        program.AffinityTimeouts.Update(id, service.Persistence);
        program.Services.Update(ToKey(key), expected.Service);
        applied[key] = next;
        appliedServices[key] = service;
        if (previous is not null)
        {
            RemoveSourceRanges(id, previous.Service.SourceRanges, service.SourceRanges);
            ReleaseRemovedBackends(key, previous.Service, service);
        }
    }

    public void RemoveService(ServiceKey key)
    {
        var previous = applied[key];
        program.Services.Delete(ToKey(key));
        for (uint g = 0; g < 2; g++)
        {
            DeleteSlots(previous.Id, g, 0, previous.SlotCounts[g]);
            if (previous.HadTables)
                SchedulerTables.Delete(program, new TableKey { ServiceId = previous.Id, Generation = g });
        }
        RemoveSourceRanges(previous.Id, previous.Service.SourceRanges, []);
        applied.Remove(key);
        appliedServices.Remove(key);
        program.AffinityTimeouts.Update(previous.Id, 0);
        ReleaseRemovedBackends(key, previous.Service, previous.Service with { Backends = [] });
        releasedServiceIds.Enqueue(previous.Id);
    }

    /// <summary>
    /// Services whose live entries differ from what was applied: the service entry, the
    /// live generation's slots, its scheduler table and its source ranges. (Scheduler positions and counters
    /// move with traffic and are not compared.)
    /// </summary>
    public IReadOnlyList<ServiceKey> FindDrift()
    {
        // One batched copy of each big map instead of a lookup per service and per slot: at
        // 10,000 services the lookups were most of the idle agent's CPU, every syncPeriod.
        var services = program.Services.ReadAll(applied.Count);
        var backendSlots = program.BackendSlots.ReadAll(applied.Values.Sum(a => a.SlotCounts.Sum()));
        var drifted = new List<ServiceKey>();
        foreach (var (key, a) in applied)
        {
            var expected = a.Expected ??= ExpectedFor(key, a);
            // A service that never had a scheduler table has none the data path would read.
            bool same = services.TryGetValue(ToKey(key), out var value) && value.Equals(expected.Service)
                && SlotsMatch(expected.Slots, backendSlots)
                && (!a.HadTables || expected.Tables.Matches(program, new TableKey { ServiceId = a.Id, Generation = a.Generation }))
                && a.Service.SourceRanges.All(r => program.SourceRanges.TryLookup(RangeKey(a.Id, r), out _));
            if (!same)
                drifted.Add(key);
        }
        return drifted;
    }

    private static bool SlotsMatch(KeyValuePair<SlotKey, BackendValue>[] expected, Dictionary<SlotKey, BackendValue> live)
    {
        foreach (var (key, value) in expected)
        {
            if (!live.TryGetValue(key, out var actual) || !actual.Equals(value))
                return false;
        }
        return true;
    }

    private ExpectedEntries ExpectedFor(ServiceKey key, AppliedService a)
    {
        var slots = ExpectedSlots(key, a);
        return new ExpectedEntries(ExpectedServiceValue(a, slots.Length), slots, SchedulerTables.For(a.Service, a.ListOrder, a.LastWeights));
    }

    // rr steps through the dests it may pick; every other scheduler sees all dests at
    // their list positions, which its tables and tie-breaks refer to.
    private KeyValuePair<SlotKey, BackendValue>[] ExpectedSlots(ServiceKey key, AppliedService a)
    {
        var positions = a.Service.Scheduler == Scheduler.Rr ? RoundRobin.Slots(a.ListOrder) : Enumerable.Range(0, a.ListOrder.Count).ToList();
        return positions.Select((position, i) =>
        {
            var backend = a.ListOrder[position];
            return new KeyValuePair<SlotKey, BackendValue>(
                new SlotKey { ServiceId = a.Id, Generation = a.Generation, Index = (uint)i },
                new BackendValue
                {
                    Addr = LbAddr.From(backend.Address),
                    Port = NetworkOrder.Port(backend.Port),
                    Weight = backend.Weight,
                    Family = NetworkOrder.Family(backend.Address.AddressFamily),
                    Id = BackendId(key, backend),
                });
        }).ToArray();
    }

    private static ServiceValue ExpectedServiceValue(AppliedService a, int slotCount) => new()
    {
        Id = a.Id,
        BackendCount = (uint)slotCount,
        Generation = a.Generation,
        Scheduler = (byte)a.Service.Scheduler,
        Flags = SchedulerFlags(a.Service)
            | (a.Service.Persistence > 0 ? ServiceFlags.Persistent : 0)
            | (a.Service.SourceRanges.Count > 0 ? ServiceFlags.SourceRanges : 0)
            | (a.Service.Forwarding == Forwarding.Dr ? ServiceFlags.Direct : 0)
            | (a.Service.Forwarding == Forwarding.Tun ? ServiceFlags.Tunnel : 0)
            | (a.Service.Forwarding == Forwarding.Masq ? ServiceFlags.Masq : 0)
            | (a.Service.MasqueradeOutsideCluster ? ServiceFlags.MasqOutside : 0),
    };

    // A removed backend's connections are expired at once, as kube-proxy configures IPVS
    // (expire_nodest_conn=1): UDP reschedules on its next packet, TCP is reset.
    private void ReleaseRemovedBackends(ServiceKey key, Service before, Service after)
    {
        var kept = after.Backends.Select(b => (b.Address, b.Port)).ToHashSet();
        var gone = new List<(Backend Backend, uint Id)>();
        foreach (var b in before.Backends.Where(b => !kept.Contains((b.Address, b.Port))))
            if (backendIds.TryGet(key, b, out uint id))
                gone.Add((b, id));
        foreach (var (_, id) in gone)
            program.BackendStatus[id] = new BackendStatus { Epoch = program.BackendStatus[id].Epoch };
        Sweeper.ExpireBackends(gone.Select(g => g.Id).ToHashSet());
        foreach (var (b, _) in gone)
            backendIds.Release(key, b.Address, b.Port);
    }

    // ip_vs_wrr's (cl, cw) after the steps, each running the dest_changed hook.
    private static ulong WrrPositionAfter(IReadOnlyList<Backend> oldListOrder, ulong position, IReadOnlyList<IpvsListOrder.Step> steps)
    {
        var model = IpvsWeightedRoundRobinModel.FromState(oldListOrder, (int)(uint)position - 1, (int)(position >> 32));
        IpvsListOrder.Replay(steps, model);
        return ((ulong)(uint)model.CurrentWeight << 32) | (uint)(model.Cursor + 1);
    }

    /// <summary>
    /// The node's VLAN devices, so that a frame routed to one leaves its parent with its VID.
    /// Devices whose name or parent no longer resolves are left out.
    /// </summary>
    public void SetVlanDevices(IReadOnlyList<VlanDevice> devices)
    {
        var wanted = new Dictionary<uint, VlanDeviceValue>();
        foreach (var d in devices)
        {
            int ifindex = XdpLink.TryInterfaceIndex(d.Name), parent = XdpLink.TryInterfaceIndex(d.Parent);
            if (ifindex > 0 && parent > 0)
                wanted[(uint)ifindex] = new VlanDeviceValue { ParentIfindex = (uint)parent, Vid = d.Vid };
        }
        // Entries before the count: the count only lets the data path skip the lookup.
        foreach (var (ifindex, value) in wanted)
            program.VlanDevices.Update(ifindex, value);
        foreach (var stale in program.VlanDevices.Keys().Where(k => !wanted.ContainsKey(k)).ToList())
            program.VlanDevices.Delete(stale);
        program.VlanDeviceCount.Update(0, (uint)wanted.Count);
    }

    /// <summary>The outer source addresses of tunnelled packets (one per family; null leaves it).</summary>
    public void SetTunnelSources(IPAddress? v4, IPAddress? v6)
    {
        if (v4 is not null)
            program.TunnelSource.Update(0, LbAddr.From(v4));
        if (v6 is not null)
            program.TunnelSource.Update(1, LbAddr.From(v6));
    }

    // A service's ranges go into the trie before its entry says to check them, and leave it
    // only after the entry stopped listing them, so no packet meets a half-written set.
    private void AddSourceRanges(uint serviceId, IReadOnlyList<string> ranges)
    {
        foreach (var range in ranges)
            program.SourceRanges.Update(RangeKey(serviceId, range), 1);
    }

    private void RemoveSourceRanges(uint serviceId, IReadOnlyList<string> before, IReadOnlyList<string> after)
    {
        var kept = after.Select(r => RangeKey(serviceId, r)).ToHashSet();
        foreach (var key in before.Select(r => RangeKey(serviceId, r)).Where(k => !kept.Contains(k)))
            program.SourceRanges.Delete(key);
    }

    private static SourceRangeKey RangeKey(uint serviceId, string cidr)
    {
        var network = IPNetwork.Parse(cidr);
        return new SourceRangeKey { Prefixlen = 32u + (uint)network.PrefixLength, ServiceId = serviceId, Addr = LbAddr.From(network.BaseAddress) };
    }

    // sh-/mh-fallback is IPVS's SCHED1, sh-/mh-port its SCHED2.
    private static ServiceFlags SchedulerFlags(Service service) => service.Flags.Aggregate(ServiceFlags.None, (flags, f) => flags | f switch
    {
        SchedulerFlag.ShFallback or SchedulerFlag.MhFallback => ServiceFlags.SchedFallback,
        _ => ServiceFlags.SchedPort,
    });

    private uint AcquireBackendId(ServiceKey service, Backend backend)
    {
        uint id = backendIds.Acquire(service, backend, out bool fresh, out bool reused);
        if (fresh)
        {
            program.BackendConns[id] = default;
            program.BackendStatus[id].Epoch++;
        }
        // Traffic counters start at zero in a new map; only a reused id carries old ones.
        if (reused)
        {
            program.BackendTraffic.Clear(id);
            BackendIdReused?.Invoke(id);
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
