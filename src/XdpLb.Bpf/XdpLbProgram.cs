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
        BtfLayout.VerifyEnum<Counter>(obj, "lb_counter", "CNT_");
        BtfLayout.VerifyEnum<TcpState>(obj, "tcp_state", "TCP_S_");
    }

    public BpfProgram Ingress { get; }
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
    ];

    /// <summary>True when every map came from the pin directory: an earlier agent's state is being adopted.</summary>
    public bool Adopted { get; private set; }

    public static XdpLbProgram Load(Limits limits, string? pinDirectory = null) => Load(EmbeddedObject(), limits, pinDirectory);

    public static XdpLbProgram Load(ReadOnlySpan<byte> elf, Limits limits, string? pinDirectory = null)
    {
        var obj = BpfObject.OpenMemory(elf, "xdplb");
        try
        {
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
            // One entry per direction of each connection.
            obj.SetMaxEntries("conntrack", checked(limits.Connections * 2));
            obj.LoadAdopting(pinDirectory);
            return new XdpLbProgram(obj) { Adopted = pinDirectory is not null && obj.AdoptedMaps.Count == PinnedMaps.Length };
        }
        catch
        {
            obj.Dispose();
            throw;
        }
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
        BackendConns.Dispose();
        BackendStatus.Dispose();
        obj.Dispose();
    }
}
