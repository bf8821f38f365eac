using XdpLb.Bpf.Btf;
using XdpLb.Core.Model;

namespace XdpLb.Bpf.Maps;

// Twins of bpf/lib/consts.h. Each object that reads them checks them through BTF at load,
// so a bit renumbered on one side stops the agent instead of mis-steering traffic.

/// <summary>enum svc_flag: struct service.flags.</summary>
[Flags]
public enum ServiceFlags : byte
{
    None = 0,
    /// <summary>IP_VS_SVC_F_PERSISTENT: ClientIP affinity.</summary>
    Persistent = 0x01,
    /// <summary>IPVS keeps 0x02 (HASHED) kernel-internal; xdplb's: forwarding masq.</summary>
    Masq = 0x02,
    /// <summary>IPVS's ONEPACKET, not offered; xdplb's: masqueradeOutsideCluster.</summary>
    MasqOutside = 0x04,
    /// <summary>IP_VS_SVC_F_SCHED1: sh-fallback, mh-fallback.</summary>
    SchedFallback = 0x08,
    /// <summary>IP_VS_SVC_F_SCHED2: sh-port, mh-port.</summary>
    SchedPort = 0x10,
    /// <summary>xdplb's own: forwarding tun.</summary>
    Tunnel = 0x20,
    /// <summary>xdplb's own: forwarding dr.</summary>
    Direct = 0x40,
    /// <summary>xdplb's own: the service has sourceRanges.</summary>
    SourceRanges = 0x80,
}

/// <summary>enum flow_flag: struct flow.flags and struct fragment_nat.flags.</summary>
[Flags]
public enum FlowFlags : byte
{
    None = 0,
    /// <summary>dr (and tun): no reply entry, IPVS's INPUT_ONLY states.</summary>
    Direct = 0x01,
    Tunnel = 0x02,
    /// <summary>Both endpoints rewritten: the source to MasqAddr/MasqPort.</summary>
    Masq = 0x04,
    /// <summary>Request entry: TCP reached ESTABLISHED, or a reply was seen; never reclaimed.</summary>
    Assured = 0x08,
    /// <summary>Request entry: counted in its affinity template's Controls.</summary>
    Affinity = 0x10,
}

internal static class Constants
{
    /// <summary>
    /// Checks the values C# writes into struct service (scheduler ids: XdpLb.Core.Model.Scheduler,
    /// whose order is the C enum's; service flags) and reads from struct flow against the object.
    /// </summary>
    internal static void Verify(BpfObject obj)
    {
        BtfLayout.VerifyEnum<Scheduler>(obj, "lb_scheduler", "SCHED_");
        BtfLayout.VerifyEnum<ServiceFlags>(obj, "svc_flag", "SVC_F_");
        BtfLayout.VerifyEnum<FlowFlags>(obj, "flow_flag", "FLOW_F_");
    }
}
