using System.Runtime.InteropServices;
using XdpLb.Bpf.Btf;
using XdpLb.Bpf.Maps;
using XdpLb.Core.Model;

namespace XdpLb.Bpf.Tests;

/// <summary>The load-time check that C# map structs match the object's BTF really fails on a mismatch.</summary>
public sealed class BtfLayoutTests : IDisposable
{
    private readonly BpfObject obj;

    public BtfLayoutTests()
    {
        Prerequisites.RequireRoot();
        obj = BpfObject.OpenMemory(XdpLbProgram.EmbeddedObject(), "xdplb-btf-test");
        obj.Load();
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct ServiceValueFieldsSwapped
    {
        public uint Id;
        public uint Generation;     // swapped with BackendCount
        public uint BackendCount;
        public byte Scheduler;
        public byte Flags;
        public ushort Reserved;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct ServiceValueWrongSize
    {
        public uint Id;
        public uint BackendCount;
        public uint Generation;
        public uint Scheduler;      // was byte: the struct grows to 16 with a different tail
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct ServiceValueRenamedField
    {
        public uint Id;
        public uint BackendTotal;   // C calls it backend_count
        public uint Generation;
        public byte Scheduler;
        public byte Flags;
        public ushort Reserved;
    }

    [Fact]
    public void MatchingStructsLoad()
    {
        var map = obj.Map<ServiceMapKey, ServiceValue>("services");
        Assert.Equal("services", map.Name);
        obj.Map<FlowKey, FlowValue>("conntrack");
        obj.Map<SlotKey, BackendValue>("backend_slots");
    }

    [Fact]
    public void SwappedFieldsAreRejectedNamingStructAndField()
    {
        var e = Assert.Throws<BtfLayoutException>(() => obj.Map<ServiceMapKey, ServiceValueFieldsSwapped>("services"));
        Assert.Contains(nameof(ServiceValueFieldsSwapped), e.Message);
        Assert.Contains("'backend_count'", e.Message);
        Assert.Contains("offset 4", e.Message);
    }

    [Fact]
    public void ChangedFieldTypeIsRejected()
    {
        var e = Assert.Throws<BtfLayoutException>(() => obj.Map<ServiceMapKey, ServiceValueWrongSize>("services"));
        Assert.Contains(nameof(ServiceValueWrongSize), e.Message);
        Assert.Contains("'scheduler'", e.Message);
    }

    [Fact]
    public void RenamedFieldIsRejected()
    {
        var e = Assert.Throws<BtfLayoutException>(() => obj.Map<ServiceMapKey, ServiceValueRenamedField>("services"));
        Assert.Contains("'backend_count'", e.Message);
        Assert.Contains(nameof(ServiceValueRenamedField), e.Message);
    }

    [Fact]
    public void WrongKeySizeIsRejected()
    {
        var e = Assert.Throws<BtfLayoutException>(() => obj.Map<ulong, ServiceValue>("services"));
        Assert.Contains("key", e.Message);
    }

    private enum CounterMissingOne : uint { PassNotIp, PassNotL4 }

    [Fact]
    public void CounterEnumMustMatchTheCEnum()
    {
        BtfLayout.VerifyEnum<Counter>(obj, "lb_counter", "CNT_");
        var e = Assert.Throws<BtfLayoutException>(() => BtfLayout.VerifyEnum<CounterMissingOne>(obj, "lb_counter", "CNT_"));
        Assert.Contains("PassFragment", e.Message);
    }

    [Fact]
    public void SchedulerIdsAndFlagsMatchTheObject()
    {
        BtfLayout.VerifyEnum<Scheduler>(obj, "lb_scheduler", "SCHED_");
        BtfLayout.VerifyEnum<ServiceFlags>(obj, "svc_flag", "SVC_F_");
        BtfLayout.VerifyEnum<FlowFlags>(obj, "flow_flag", "FLOW_F_");
    }

    [Flags]
    private enum ServiceFlagsSchedBitsSwapped : byte
    {
        None = 0, Persistent = 0x01, Masq = 0x02, MasqOutside = 0x04,
        SchedFallback = 0x10, SchedPort = 0x08, // IPVS's SCHED1 and SCHED2 the wrong way round
        Tunnel = 0x20, Direct = 0x40, SourceRanges = 0x80,
    }

    [Fact]
    public void AFlagOfTheWrongValueIsRejectedNamingIt()
    {
        var e = Assert.Throws<BtfLayoutException>(() => BtfLayout.VerifyEnum<ServiceFlagsSchedBitsSwapped>(obj, "svc_flag", "SVC_F_"));
        Assert.Contains("SchedFallback is 16", e.Message);
        Assert.Contains("enum svc_flag says 8", e.Message);
    }

    [Flags]
    private enum FlowFlagsWithAnExtraBit : byte { None = 0, Direct = 0x01, Tunnel = 0x02, Masq = 0x04, Assured = 0x08, Affinity = 0x10, Local = 0x20 }

    [Fact]
    public void AFlagTheObjectLacksIsRejected()
    {
        var e = Assert.Throws<BtfLayoutException>(() => BtfLayout.VerifyEnum<FlowFlagsWithAnExtraBit>(obj, "flow_flag", "FLOW_F_"));
        Assert.Contains("Local has no counterpart in enum flow_flag", e.Message);
    }

    private enum SchedulerReordered { Rr, Wrr, Lc, Wlc, Sh, Dh, Nq, Sed, Mh }

    [Fact]
    public void ASchedulerIdOutOfOrderIsRejected()
    {
        var e = Assert.Throws<BtfLayoutException>(() => BtfLayout.VerifyEnum<SchedulerReordered>(obj, "lb_scheduler", "SCHED_"));
        Assert.Contains("enum lb_scheduler says", e.Message);
    }

    public void Dispose() => obj.Dispose();
}
