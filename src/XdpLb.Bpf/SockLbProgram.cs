using XdpLb.Bpf.Maps;
using XdpLb.Core.Model;

namespace XdpLb.Bpf;

/// <summary>
/// xdplb_sock.bpf.o loaded beside the XDP object and sharing its maps (services, slots,
/// scheduler state, affinity, connection counts), so that a connection balanced at connect
/// time moves the same rr/wrr position and lc counts as one balanced by XDP.
/// </summary>
public sealed class SockLbProgram : IDisposable
{
    public const string ObjectResource = "xdplb_sock.bpf.o";

    /// <summary>
    /// Each program and the cgroup hook it is attached at (enum bpf_attach_type), in the
    /// order they are attached (and the reverse of the order they are detached): what turns
    /// addresses back and keeps the counts is in place before anything is translated.
    /// </summary>
    public static readonly IReadOnlyList<(string Program, uint AttachType)> Hooks =
    [
        ("xdplb_sockops", 3), ("xdplb_sock_release", 34),
        ("xdplb_recvmsg4", 19), ("xdplb_recvmsg6", 20),
        ("xdplb_getpeername4", 29), ("xdplb_getpeername6", 30),
        ("xdplb_connect4", 10), ("xdplb_connect6", 11),
        ("xdplb_sendmsg4", 14), ("xdplb_sendmsg6", 15),
    ];

    /// <summary>This object's own maps, pinned beside the XDP object's so that sockets outlive the agent with their state.</summary>
    public static readonly string[] PinnedMaps = ["sock_translations", "sock_udp_peers", "sock_backend_traffic", "sock_counters"];

    /// <summary>The XDP object's maps the hooks schedule and count with: without one of them the two paths would not share state.</summary>
    private static readonly string[] SharedMaps =
        ["services", "backend_slots", "sched_states", "bucket_tables", "maglev_tables", "wrr_tables", "affinity", "backend_status", "backend_conns", "backend_traffic"];

    private readonly BpfObject obj;

    private SockLbProgram(BpfObject obj)
    {
        this.obj = obj;
        Programs = Hooks.Select(h => obj.Program(h.Program)).ToList();
        BackendTraffic = obj.PerCpuArray<SockBackendTraffic>("sock_backend_traffic");
        Counters = obj.PerCpuArray<ulong>("sock_counters");
        Btf.BtfLayout.VerifyEnum<SockCounter>(obj, "sock_counter", "SOCK_CNT_");
        Constants.Verify(obj);
    }

    /// <summary>In the order of <see cref="Hooks"/>.</summary>
    public IReadOnlyList<BpfProgram> Programs { get; }
    public PerCpuArrayMap<SockBackendTraffic> BackendTraffic { get; }
    public PerCpuArrayMap<ulong> Counters { get; }

    public static SockLbProgram Load(XdpLbProgram xdp, Limits limits, string? pinDirectory = null) =>
        Load(EmbeddedObject(), xdp, limits, pinDirectory);

    public static SockLbProgram Load(ReadOnlySpan<byte> elf, XdpLbProgram xdp, Limits limits, string? pinDirectory = null)
    {
        var obj = BpfObject.OpenMemory(elf, "xdplb_sock");
        try
        {
            var missing = SharedMaps.Except(obj.ShareMapsOf(xdp.Object)).ToList();
            if (missing.Count > 0)
                throw new InvalidOperationException($"the socket hooks' object does not share {string.Join(", ", missing)} with the XDP object: the two builds differ");
            if (pinDirectory is not null)
                obj.PinMapsUnder(pinDirectory, PinnedMaps);
            obj.SetMaxEntries("sock_backend_traffic", limits.Backends);
            obj.LoadAdopting(pinDirectory);
            return new SockLbProgram(obj);
        }
        catch
        {
            obj.Dispose();
            throw;
        }
    }

    public static byte[] EmbeddedObject() => BpfObject.Embedded(typeof(SockLbProgram).Assembly, ObjectResource);

    /// <summary>Socket-level translations of backend ids [0, count), summed over CPUs.</summary>
    public SockBackendTraffic[] ReadAllTraffic(uint count) => BackendTraffic.ReadSummed(count, (a, b) => a + b);

    public IReadOnlyDictionary<SockCounter, ulong> ReadCounters()
    {
        var result = new Dictionary<SockCounter, ulong>();
        for (var c = (SockCounter)0; c < SockCounter.Max; c++)
            result[c] = Counters.Lookup((uint)c).Aggregate(0UL, (a, b) => a + b);
        return result;
    }

    public void Dispose() => obj.Dispose();
}
