namespace XdpLb.Bpf.Maps;

/// <summary>
/// The keys of a connection's two entries, as flow_reply_key / flow_request_key in
/// bpf/lib/flow.h: a masq connection's other side is the node's address and port it was
/// given, not the client's.
/// </summary>
public static class ConnectionKeys
{
    public static FlowKey ReplyKey(FlowKey request, FlowValue flow)
    {
        bool masq = flow.Flags.HasFlag(FlowFlags.Masq);
        return new()
        {
            SourceAddr = flow.NatAddr,
            DestAddr = masq ? flow.MasqAddr : request.SourceAddr,
            SourcePort = flow.NatPort,
            DestPort = masq ? flow.MasqPort : request.SourcePort,
            Proto = request.Proto,
            Family = request.Family,
        };
    }
}
