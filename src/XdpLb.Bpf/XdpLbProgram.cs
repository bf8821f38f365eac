using System.Reflection;
using XdpLb.Bpf.Btf;
using XdpLb.Bpf.Maps;
using XdpLb.Core.Model;

namespace XdpLb.Bpf;

/// <summary>
/// xdplb.bpf.o loaded into the kernel, sized from the config's limits, with every map
/// struct checked against the object's BTF before anything is written.
/// </summary>
public sealed class XdpLbProgram : IDisposable
{
    public const string ObjectResource = "xdplb.bpf.o";
    private readonly BpfObject obj;

    private XdpLbProgram(BpfObject obj)
    {
        this.obj = obj;
        Ingress = obj.Program("xdplb_ingress");
        Services = obj.Map<ServiceMapKey, ServiceValue>("services");
        BackendSlots = obj.Map<SlotKey, BackendValue>("backend_slots");
        SchedStates = obj.Map<uint, SchedState>("sched_states");
        BucketTables = obj.Map<TableKey, BucketTable>("bucket_tables");
        MaglevTables = obj.Map<TableKey, MaglevTable>("maglev_tables");
        WrrTables = obj.Map<TableKey, WrrTable>("wrr_tables");
        Conntrack = obj.Map<FlowKey, FlowValue>("conntrack");
        Affinity = obj.Map<AffinityKey, AffinityValue>("affinity");
        Fragments = obj.Map<FragmentKey, FragmentNat>("fragments");
        SourceRanges = obj.Map<SourceRangeKey, byte>("source_ranges");
        TunnelSource = obj.Map<uint, LbAddr>("tunnel_source");
        MasqPorts = obj.Map<uint, MasqPortRange>("masq_ports");
        VlanDevices = obj.Map<uint, VlanDeviceValue>("vlan_devices");
        VlanDeviceCount = obj.Map<uint, uint>("vlan_device_count");
        BackendStatus = obj.MmapArray<BackendStatus>("backend_status");
        Counters = obj.PerCpuArray<ulong>("counters");
        BackendTraffic = obj.PerCpuArray<BackendTraffic>("backend_traffic");
        BackendConns = obj.MmapArray<BackendConns>("backend_conns");
        Sweep = obj.Program("sweep");
        ConntrackConfig = obj.Map<uint, ConntrackConfig>("conntrack_config");
        ConntrackTags = obj.Map<uint, ConntrackTags>("conntrack_tags");
        SweepIndex = obj.Map<uint, IndexWindow>("conntrack_index");
        ReclaimRing = obj.Map<uint, ReclaimSlot>("conntrack_reclaim_ring");
        ConntrackPurge = obj.Map<uint, uint>("conntrack_purge");
        AffinityTimeouts = obj.Map<uint, uint>("affinity_timeouts");
        ConntrackEvents = obj.PerCpuArray<ulong>("conntrack_events");
        BtfLayout.VerifyEnum<Counter>(obj, "lb_counter", "CNT_");
        BtfLayout.VerifyEnum<ConntrackEvent>(obj, "ct_event", "CT_");
        BtfLayout.VerifyStruct<SweepArgs>(obj, "sweep_args");
        BtfLayout.VerifyEnum<TcpState>(obj, "tcp_state", "TCP_S_");
        Constants.Verify(obj);
    }

    public BpfProgram Ingress { get; }
    /// <summary>The kernel's sweeper (a syscall program), driven by <see cref="ConnectionSweeper"/>.</summary>
    public BpfProgram Sweep { get; }
    /// <summary>[0]: timeouts per state and the index's and ring's sizes.</summary>
    public BpfMap<uint, ConntrackConfig> ConntrackConfig { get; }
    /// <summary>[0]: tags given out, and the reclaim ring's tail.</summary>
    public BpfMap<uint, ConntrackTags> ConntrackTags { get; }
    /// <summary>A slot per connection and affinity template, in windows of 8.</summary>
    public BpfMap<uint, IndexWindow> SweepIndex { get; }
    /// <summary>Connections in the order they were opened, for reclaim when the table is full.</summary>
    public BpfMap<uint, ReclaimSlot> ReclaimRing { get; }
    /// <summary>Backend ids whose connections and templates the sweeper ends (non-zero).</summary>
    public BpfMap<uint, uint> ConntrackPurge { get; }
    /// <summary>Each service id's affinity timeout in seconds (0: not persistent).</summary>
    public BpfMap<uint, uint> AffinityTimeouts { get; }
    public PerCpuArrayMap<ulong> ConntrackEvents { get; }
    /// <summary>The loaded object, whose maps the socket hooks' object shares.</summary>
    internal BpfObject Object => obj;
    public BpfMap<ServiceMapKey, ServiceValue> Services { get; }
    public BpfMap<SlotKey, BackendValue> BackendSlots { get; }
    public BpfMap<uint, SchedState> SchedStates { get; }
    public BpfMap<TableKey, BucketTable> BucketTables { get; }
    public BpfMap<TableKey, MaglevTable> MaglevTables { get; }
    public BpfMap<TableKey, WrrTable> WrrTables { get; }
    public BpfMap<FlowKey, FlowValue> Conntrack { get; }
    public BpfMap<AffinityKey, AffinityValue> Affinity { get; }
    public BpfMap<FragmentKey, FragmentNat> Fragments { get; }
    public BpfMap<SourceRangeKey, byte> SourceRanges { get; }
    /// <summary>[0]: the IPv4 source of tunnel (IPIP) headers, [1]: the IPv6 one.</summary>
    public BpfMap<uint, LbAddr> TunnelSource { get; }
    /// <summary>[0]: masq.portRange.</summary>
    public BpfMap<uint, MasqPortRange> MasqPorts { get; }
    /// <summary>The node's VLAN devices by ifindex; [0] of VlanDeviceCount says how many.</summary>
    public BpfMap<uint, VlanDeviceValue> VlanDevices { get; }
    public BpfMap<uint, uint> VlanDeviceCount { get; }
    /// <summary>Each backend id's service and weight, shared with the data path.</summary>
    public MmapArrayMap<BackendStatus> BackendStatus { get; }
    public PerCpuArrayMap<ulong> Counters { get; }
    public PerCpuArrayMap<BackendTraffic> BackendTraffic { get; }
    /// <summary>Active/inactive connections per backend id, shared with the data path.</summary>
    public MmapArrayMap<BackendConns> BackendConns { get; }

    /// <summary>The BPF object, as embedded in this assembly.</summary>
    public static byte[] EmbeddedObject() => BpfObject.Embedded(typeof(XdpLbProgram).Assembly, ObjectResource);

    /// <summary>The maps pinned under --bpf-pin-dir, so that connections outlive the agent.</summary>
    public static readonly string[] PinnedMaps =
    [
        "services", "backend_slots", "sched_states", "bucket_tables", "maglev_tables", "wrr_tables", "conntrack",
        "affinity", "fragments", "source_ranges", "tunnel_source", "masq_ports", "vlan_devices", "vlan_device_count", "backend_status", "backend_conns", "backend_traffic", "counters",
        "conntrack_config", "conntrack_tags", "conntrack_index", "conntrack_reclaim_ring", "conntrack_purge", "affinity_timeouts", "conntrack_events",
    ];

    /// <summary>True when every map came from the pin directory: an earlier agent's state is being adopted.</summary>
    public bool Adopted { get; private set; }

    public static XdpLbProgram Load(Limits limits, string? pinDirectory = null) => Load(EmbeddedObject(), limits, pinDirectory);

    /// <summary>Maps this layout added to the previous one: an upgrade creates them.</summary>
    private static readonly string[] AddedMaps =
        ["conntrack_config", "conntrack_tags", "conntrack_index", "conntrack_reclaim_ring", "conntrack_purge", "affinity_timeouts", "conntrack_events"];

    /// <summary>The previous layout's connection table and templates, moved aside for the agent to copy; null when there were none.</summary>
    public LegacyConntrack? Legacy { get; private init; }

    public static XdpLbProgram Load(ReadOnlySpan<byte> elf, Limits limits, string? pinDirectory = null)
    {
        var obj = BpfObject.OpenMemory(elf, "xdplb");
        LegacyConntrack? legacy = null;
        try
        {
            if (pinDirectory is not null)
                legacy = LegacyConntrack.MoveAside(pinDirectory);
            if (pinDirectory is not null)
                obj.PinMapsUnder(pinDirectory, PinnedMaps);
            obj.SetMaxEntries("services", limits.Services);
            obj.SetMaxEntries("sched_states", limits.Services);
            // A table per generation of each sh/dh (or mh) service.
            obj.SetMaxEntries("bucket_tables", checked(limits.Services * 2));
            obj.SetMaxEntries("maglev_tables", checked(limits.Services * 2));
            obj.SetMaxEntries("wrr_tables", checked(limits.Services * 2));
            // Two generations of slots per backend, so a full replacement fits while the old one is live.
            obj.SetMaxEntries("backend_slots", checked(limits.Backends * 2));
            obj.SetMaxEntries("backend_conns", limits.Backends);
            obj.SetMaxEntries("backend_traffic", limits.Backends);
            obj.SetMaxEntries("backend_status", limits.Backends);
            // At most one affinity template per connection.
            obj.SetMaxEntries("affinity", limits.Connections);
            // Ranges are few per service; room for two per service, and at least 65,536.
            obj.SetMaxEntries("source_ranges", Math.Max(65_536u, checked(limits.Services * 2)));
            obj.SetMaxEntries("affinity_timeouts", limits.Services);
            obj.SetMaxEntries("conntrack_purge", limits.Backends);
            // One entry per direction of each connection.
            obj.SetMaxEntries("conntrack", checked(limits.Connections * 2));
            // Two index slots per connection (windows of 8), so a claim's probe finds a free one.
            obj.SetMaxEntries("conntrack_index", IndexWindows(limits));
            obj.SetMaxEntries("conntrack_reclaim_ring", ReclaimRingSize(limits));
            obj.LoadAdopting(pinDirectory);
            bool adopted = pinDirectory is not null && PinnedMaps.All(m => obj.AdoptedMaps.Contains(m)
                || (legacy is not null && (AddedMaps.Contains(m) || legacy.Moved.Contains(m))));
            return new XdpLbProgram(obj) { Adopted = adopted, Legacy = legacy };
        }
        catch
        {
            // The previous agent's maps go back where it (or a rollback to it) looks for them.
            legacy?.PutBack();
            legacy?.Dispose();
            obj.Dispose();
            throw;
        }
    }

    /// <summary>The sweep index's windows: two slots per connection.</summary>
    public static uint IndexWindows(Limits limits) => Math.Max(1u, checked((uint)(((ulong)limits.Connections * 2 + IndexWindow.Ways - 1) / IndexWindow.Ways)));

    /// <summary>The reclaim ring's slots: a power of two, at least the connections.</summary>
    public static uint ReclaimRingSize(Limits limits) => Math.Max(2u, System.Numerics.BitOperations.RoundUpToPowerOf2(limits.Connections));

    /// <summary>Connection events summed over CPUs.</summary>
    public IReadOnlyDictionary<ConntrackEvent, ulong> ReadConntrackEvents()
    {
        var result = new Dictionary<ConntrackEvent, ulong>();
        for (var e = (ConntrackEvent)0; e < ConntrackEvent.EventMax; e++)
            result[e] = ConntrackEvents.Lookup((uint)e).Aggregate(0UL, (a, b) => a + b);
        return result;
    }

    /// <summary>Connections in the table: opened, less every one that ended (each is counted once, by the call that removed it).</summary>
    public ulong LiveConnections()
    {
        var events = ReadConntrackEvents();
        ulong ended = events[ConntrackEvent.ExpiredIdle] + events[ConntrackEvent.ExpiredReused] + events[ConntrackEvent.ExpiredBackendRemoved]
            + events[ConntrackEvent.ReclaimedTcpHalfOpen] + events[ConntrackEvent.ReclaimedUdpUnanswered] + events[ConntrackEvent.RefusedIndexFull];
        ulong opened = events[ConntrackEvent.Opened];
        return opened > ended ? opened - ended : 0;
    }

    /// <summary>Global counters summed over CPUs.</summary>
    public IReadOnlyDictionary<Counter, ulong> ReadCounters()
    {
        var result = new Dictionary<Counter, ulong>();
        for (var c = (Counter)0; c < Counter.Max; c++)
            result[c] = Counters.Lookup((uint)c).Aggregate(0UL, (a, b) => a + b);
        return result;
    }

    /// <summary>Traffic counters of backend ids [0, count), summed over CPUs, read in batches.</summary>
    public BackendTraffic[] ReadAllTraffic(uint count) => BackendTraffic.ReadSummed(count, (a, b) => a + b);

    /// <summary>One backend's traffic counters summed over CPUs.</summary>
    public BackendTraffic ReadTraffic(uint backendId) => BackendTraffic.Lookup(backendId).Aggregate(default(BackendTraffic), (a, b) => a + b);

    public void Dispose()
    {
        Legacy?.Dispose();
        BackendConns.Dispose();
        BackendStatus.Dispose();
        obj.Dispose();
    }
}
