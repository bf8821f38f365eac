using System.Buffers.Binary;

namespace XdpLb.Ipvs.Netlink;

/// <summary>Thrown when the kernel has no generic netlink family of that name (e.g. no IP_VS).</summary>
public sealed class NetlinkFamilyNotFoundException(string family)
    : NetlinkException($"resolving the generic netlink family \"{family}\" (the kernel has none of that name)", 2)
{
    public string Family { get; } = family;
}

/// <summary>
/// Requests to one generic netlink family over one socket: a request answered by an ack
/// (errors become NetlinkException naming the operation), or a dump read until NLMSG_DONE.
/// Not thread-safe: one request at a time.
/// </summary>
internal sealed class GenericNetlink : IDisposable
{
    private const ushort GenlIdCtrl = 0x10, NlmsgError = 2, NlmsgDone = 3;
    private const byte CtrlCmdGetFamily = 3, CtrlAttrFamilyId = 1, CtrlAttrFamilyName = 2;

    private readonly NetlinkSocket socket;
    private readonly byte version;
    private readonly byte[] buffer = new byte[1 << 16];
    private uint sequence = (uint)Environment.TickCount;

    private GenericNetlink(NetlinkSocket socket, ushort family, byte version)
    {
        this.socket = socket;
        Family = family;
        this.version = version;
    }

    public ushort Family { get; }

    public static GenericNetlink Open(string familyName, byte version)
    {
        var socket = NetlinkSocket.Open(NetlinkSocket.NetlinkGeneric);
        try
        {
            var resolver = new GenericNetlink(socket, GenlIdCtrl, 1);
            var request = resolver.NewRequest(CtrlCmdGetFamily, NetlinkMessageWriter.FlagRequest).String(CtrlAttrFamilyName, familyName);
            List<NetlinkAttributes> replies;
            try
            {
                replies = resolver.Exchange(request, $"resolving the generic netlink family \"{familyName}\"", dump: false);
            }
            catch (NetlinkException e) when (e.Errno == 2)
            {
                throw new NetlinkFamilyNotFoundException(familyName);
            }
            ushort id = replies.Select(r => r.U16(CtrlAttrFamilyId)).FirstOrDefault(i => i != 0);
            if (id == 0)
                throw new NetlinkFamilyNotFoundException(familyName);
            return new GenericNetlink(socket, id, version);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    public NetlinkMessageWriter NewRequest(byte command, ushort flags) =>
        new(Family, flags, ++sequence, command, version);

    /// <summary>A change: sent with NLM_F_ACK; returns when the kernel acknowledged it.</summary>
    public void Execute(NetlinkMessageWriter request, string operation) => Exchange(request, operation, dump: false);

    /// <summary>A GET answered by one message.</summary>
    public NetlinkAttributes Get(NetlinkMessageWriter request, string operation) =>
        Exchange(request, operation, dump: false).FirstOrDefault() ?? throw new NetlinkException(operation + " (no answer)", 61 /* ENODATA */);

    /// <summary>A dump: every message until NLMSG_DONE, as attribute lists.</summary>
    public List<NetlinkAttributes> Dump(NetlinkMessageWriter request, string operation) => Exchange(request, operation, dump: true);

    private List<NetlinkAttributes> Exchange(NetlinkMessageWriter request, string operation, bool dump)
    {
        var message = request.ToArray();
        uint seq = BinaryPrimitives.ReadUInt32LittleEndian(message.AsSpan(8));
        socket.Send(message, operation);
        var results = new List<NetlinkAttributes>();
        while (true)
        {
            int n = socket.Receive(buffer, operation);
            int at = 0;
            while (at + 16 <= n)
            {
                var header = buffer.AsSpan(at);
                int length = (int)BinaryPrimitives.ReadUInt32LittleEndian(header);
                ushort type = BinaryPrimitives.ReadUInt16LittleEndian(header[4..]);
                uint replySeq = BinaryPrimitives.ReadUInt32LittleEndian(header[8..]);
                if (length < 16 || at + length > n)
                    throw new InvalidDataException($"{operation}: a netlink message of length {length} runs past its datagram");
                var body = header[16..length];
                at += (length + 3) & ~3;
                if (replySeq != seq)
                    continue; // an answer to an earlier request that gave up: not ours
                if (type == NlmsgDone)
                    return results;
                if (type == NlmsgError)
                {
                    int error = BinaryPrimitives.ReadInt32LittleEndian(body);
                    if (error != 0)
                        throw new NetlinkException(operation, -error);
                    return results; // the ack of a change
                }
                // A data message: genlmsghdr (4 bytes), then attributes.
                results.Add(NetlinkAttributes.Parse(body[4..]));
                if (!dump && (request.Flags & NetlinkMessageWriter.FlagAck) == 0)
                    return results;
            }
        }
    }

    public void Dispose() => socket.Dispose();
}
