using System.Buffers.Binary;
using System.Net;
using System.Text;

namespace XdpLb.Ipvs.Netlink;

/// <summary>
/// A parsed attribute list: type -> value. Types are masked with 0x3FFF (the kernel's
/// nests may or may not carry NLA_F_NESTED); a truncated attribute ends the list with an
/// error rather than being read past.
/// </summary>
internal sealed class NetlinkAttributes
{
    private readonly Dictionary<ushort, byte[]> values = new();

    public static NetlinkAttributes Parse(ReadOnlySpan<byte> data)
    {
        var a = new NetlinkAttributes();
        int at = 0;
        while (at + 4 <= data.Length)
        {
            ushort length = BinaryPrimitives.ReadUInt16LittleEndian(data[at..]);
            ushort type = (ushort)(BinaryPrimitives.ReadUInt16LittleEndian(data[(at + 2)..]) & 0x3FFF);
            if (length < 4 || at + length > data.Length)
                throw new InvalidDataException($"netlink attribute {type} of length {length} runs past its message ({data.Length - at} bytes left)");
            a.values[type] = data.Slice(at + 4, length - 4).ToArray();
            at += (length + 3) & ~3;
        }
        return a;
    }

    public bool Has(ushort type) => values.ContainsKey(type);

    public byte[]? Raw(ushort type) => values.GetValueOrDefault(type);

    public NetlinkAttributes? Nested(ushort type) => values.TryGetValue(type, out var v) ? Parse(v) : null;

    public ushort U16(ushort type) => values.TryGetValue(type, out var v) && v.Length >= 2 ? BinaryPrimitives.ReadUInt16LittleEndian(v) : (ushort)0;

    public ushort Be16(ushort type) => values.TryGetValue(type, out var v) && v.Length >= 2 ? BinaryPrimitives.ReadUInt16BigEndian(v) : (ushort)0;

    public uint U32(ushort type) => values.TryGetValue(type, out var v) && v.Length >= 4 ? BinaryPrimitives.ReadUInt32LittleEndian(v) : 0;

    public ulong U64(ushort type) => values.TryGetValue(type, out var v) && v.Length >= 8 ? BinaryPrimitives.ReadUInt64LittleEndian(v) : 0;

    public string String(ushort type) => values.TryGetValue(type, out var v) ? Encoding.ASCII.GetString(v).TrimEnd('\0') : "";

    /// <summary>An address attribute (always 16 bytes from the kernel; IPv4 in the first 4).</summary>
    public IPAddress? Address(ushort type, ushort family) => values.TryGetValue(type, out var v)
        ? family == 2 ? new IPAddress(v.AsSpan(0, 4)) : new IPAddress(v.AsSpan(0, 16))
        : null;
}
