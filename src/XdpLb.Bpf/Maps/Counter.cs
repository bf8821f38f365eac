namespace XdpLb.Bpf.Maps;

/// <summary>enum lb_counter of bpf/lib/xdp_maps.h (names without CNT_, checked through BTF at load).</summary>
public enum Counter : uint
{
    PassNotIp,
    PassNotL4,
    PassFragment,
    PassNotService,
    PassNoFlowNonSyn,
    Malformed,
    DropNoBackend,
    DropConntrackFull,
    NewFlow,
    NatRequest,
    NatReply,
    FwdRedirect,
    FwdTx,
    FwdStack,
    TxTcpReset,
    TxPortUnreach,
    NatFragment,
    NatIcmpError,
    PassSctp,
    DropSourceRange,
    FwdDirect,
    FwdTunnel,
    TxTooBig,
    DropMasqNoRoute,
    DropMasqNoPort,
    Max,
}
