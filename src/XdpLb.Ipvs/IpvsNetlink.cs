namespace XdpLb.Ipvs;

/// <summary>The IPVS generic netlink ids (uapi ip_vs.h; docs/ipvs.md §6).</summary>
internal static class IpvsNetlink
{
    public const string FamilyName = "IPVS";
    public const byte GenlVersion = 1;

    public const byte CmdNewService = 1, CmdSetService = 2, CmdDelService = 3, CmdGetService = 4;
    public const byte CmdNewDest = 5, CmdSetDest = 6, CmdDelDest = 7, CmdGetDest = 8;
    public const byte CmdSetConfig = 12, CmdGetConfig = 13, CmdGetInfo = 15, CmdZero = 16, CmdFlush = 17;

    public const ushort AttrService = 1, AttrDest = 2, AttrTimeoutTcp = 4, AttrTimeoutTcpFin = 5, AttrTimeoutUdp = 6;

    public const ushort SvcAf = 1, SvcProtocol = 2, SvcAddr = 3, SvcPort = 4, SvcSchedName = 6, SvcFlags = 7,
        SvcTimeout = 8, SvcNetmask = 9, SvcStats64 = 12;

    public const ushort DestAddr = 1, DestPort = 2, DestFwdMethod = 3, DestWeight = 4, DestUThresh = 5, DestLThresh = 6,
        DestActiveConns = 7, DestInactConns = 8, DestPersistConns = 9, DestAddrFamily = 11, DestStats64 = 12;

    public const ushort StatsConns = 1, StatsInPkts = 2, StatsOutPkts = 3, StatsInBytes = 4, StatsOutBytes = 5,
        StatsCps = 6, StatsInPps = 7, StatsOutPps = 8, StatsInBps = 9, StatsOutBps = 10;

    public const ushort InfoVersion = 1, InfoConnTabSize = 2;
}
