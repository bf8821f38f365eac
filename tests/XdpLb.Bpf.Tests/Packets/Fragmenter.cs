using System.Buffers.Binary;

namespace XdpLb.Bpf.Tests.Packets;

/// <summary>Splits a frame built by <see cref="PacketBuilder"/> into IP fragments, as a sender's stack would.</summary>
public static class Fragmenter
{
    /// <param name="payloadPerFragment">Bytes of the IP payload per fragment (a multiple of 8).</param>
    public static List<byte[]> Fragment(byte[] frame, int payloadPerFragment, uint id = 0x4242)
    {
        bool v6 = frame[12] == 0x86;
        int ipHeader = v6 ? 40 : (frame[14] & 0x0f) * 4;
        var payload = frame.AsSpan(14 + ipHeader);
        var fragments = new List<byte[]>();
        for (int offset = 0; offset < payload.Length; offset += payloadPerFragment)
        {
            var chunk = payload.Slice(offset, Math.Min(payloadPerFragment, payload.Length - offset));
            bool more = offset + chunk.Length < payload.Length;
            fragments.Add(v6 ? Ipv6Fragment(frame, chunk, offset, more, id) : Ipv4Fragment(frame, ipHeader, chunk, offset, more, (ushort)id));
        }
        return fragments;
    }

    private static byte[] Ipv4Fragment(byte[] frame, int ipHeader, ReadOnlySpan<byte> chunk, int offset, bool more, ushort id)
    {
        var f = new byte[14 + ipHeader + chunk.Length];
        frame.AsSpan(0, 14 + ipHeader).CopyTo(f);
        chunk.CopyTo(f.AsSpan(14 + ipHeader));
        var ip = f.AsSpan(14);
        BinaryPrimitives.WriteUInt16BigEndian(ip[2..], (ushort)(ipHeader + chunk.Length));
        BinaryPrimitives.WriteUInt16BigEndian(ip[4..], id);
        BinaryPrimitives.WriteUInt16BigEndian(ip[6..], (ushort)((more ? 0x2000 : 0) | (offset / 8)));
        ip[10] = ip[11] = 0;
        BinaryPrimitives.WriteUInt16BigEndian(ip[10..], InternetChecksum.Compute(ip[..ipHeader]));
        return f;
    }

    private static byte[] Ipv6Fragment(byte[] frame, ReadOnlySpan<byte> chunk, int offset, bool more, uint id)
    {
        var f = new byte[14 + 40 + 8 + chunk.Length];
        frame.AsSpan(0, 54).CopyTo(f);
        var ip = f.AsSpan(14);
        byte next = ip[6];
        ip[6] = 44;
        BinaryPrimitives.WriteUInt16BigEndian(ip[4..], (ushort)(8 + chunk.Length));
        var frag = ip[40..];
        frag[0] = next;
        BinaryPrimitives.WriteUInt16BigEndian(frag[2..], (ushort)(offset | (more ? 1 : 0)));
        BinaryPrimitives.WriteUInt32BigEndian(frag[4..], id);
        chunk.CopyTo(f.AsSpan(14 + 48));
        return f;
    }
}
