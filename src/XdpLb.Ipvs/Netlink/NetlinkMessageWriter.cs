using System.Buffers.Binary;
using System.Text;

namespace XdpLb.Ipvs.Netlink;

/// <summary>
/// Builds one generic netlink request: nlmsghdr, genlmsghdr, then attributes (4-byte
/// aligned, nests by Begin/End). Lengths are patched in as nests close.
/// </summary>
internal sealed class NetlinkMessageWriter
{
    public const ushort FlagRequest = 0x1, FlagAck = 0x4, FlagDump = 0x300;

    private readonly List<byte> bytes = new(256);
    private readonly Stack<int> nests = new();

    public ushort Flags { get; }

    public NetlinkMessageWriter(ushort family, ushort flags, uint sequence, byte command, byte version)
    {
        Flags = flags;
        Put32(0);           // nlmsg_len, patched by ToArray
        Put16(family);
        Put16(flags);
        Put32(sequence);
        Put32(0);           // pid: the kernel fills it
        bytes.Add(command);
        bytes.Add(version);
        Put16(0);
    }

    public NetlinkMessageWriter U8(ushort type, byte value) => Attribute(type, [value]);

    public NetlinkMessageWriter U16(ushort type, ushort value) => Attribute(type, BitConverter.GetBytes(value));

    /// <summary>A 16-bit value in network byte order (IPVS ports).</summary>
    public NetlinkMessageWriter Be16(ushort type, ushort value)
    {
        var v = new byte[2];
        BinaryPrimitives.WriteUInt16BigEndian(v, value);
        return Attribute(type, v);
    }

    public NetlinkMessageWriter U32(ushort type, uint value) => Attribute(type, BitConverter.GetBytes(value));

    /// <summary>A NUL-terminated string.</summary>
    public NetlinkMessageWriter String(ushort type, string value) => Attribute(type, [.. Encoding.ASCII.GetBytes(value), 0]);

    public NetlinkMessageWriter Attribute(ushort type, ReadOnlySpan<byte> value)
    {
        Put16((ushort)(4 + value.Length));
        Put16(type);
        foreach (var b in value)
            bytes.Add(b);
        Align();
        return this;
    }

    public NetlinkMessageWriter Begin(ushort type)
    {
        nests.Push(bytes.Count);
        Put16(0);
        Put16(type); // IPVS parses nests without NLA_F_NESTED, and so does every kernel since
        return this;
    }

    public NetlinkMessageWriter End()
    {
        int start = nests.Pop();
        ushort length = (ushort)(bytes.Count - start);
        bytes[start] = (byte)length;
        bytes[start + 1] = (byte)(length >> 8);
        return this;
    }

    public byte[] ToArray()
    {
        if (nests.Count != 0)
            throw new InvalidOperationException("a nested attribute was left open");
        var message = bytes.ToArray();
        BinaryPrimitives.WriteUInt32LittleEndian(message, (uint)message.Length);
        return message;
    }

    private void Put16(ushort v)
    {
        bytes.Add((byte)v);
        bytes.Add((byte)(v >> 8));
    }

    private void Put32(uint v)
    {
        Put16((ushort)v);
        Put16((ushort)(v >> 16));
    }

    private void Align()
    {
        while (bytes.Count % 4 != 0)
            bytes.Add(0);
    }
}
