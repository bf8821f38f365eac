using System.Buffers.Binary;

namespace XdpLb.Bpf.Tests.Packets;

/// <summary>802.1Q tags put on and taken off test frames.</summary>
public static class VlanFrames
{
    public const ushort Tpid = 0x8100;

    public static byte[] Tag(byte[] frame, ushort tci)
    {
        var tagged = new byte[frame.Length + 4];
        frame.AsSpan(0, 12).CopyTo(tagged);
        BinaryPrimitives.WriteUInt16BigEndian(tagged.AsSpan(12), Tpid);
        BinaryPrimitives.WriteUInt16BigEndian(tagged.AsSpan(14), tci);
        frame.AsSpan(12).CopyTo(tagged.AsSpan(16));
        return tagged;
    }

    /// <summary>The frame's TCI (null when untagged) and the frame without its tag.</summary>
    public static (ushort? Tci, byte[] Frame) Untag(byte[] frame)
    {
        if (BinaryPrimitives.ReadUInt16BigEndian(frame.AsSpan(12)) != Tpid)
            return (null, frame);
        var untagged = new byte[frame.Length - 4];
        frame.AsSpan(0, 12).CopyTo(untagged);
        frame.AsSpan(16).CopyTo(untagged.AsSpan(12));
        return (BinaryPrimitives.ReadUInt16BigEndian(frame.AsSpan(14)), untagged);
    }
}
