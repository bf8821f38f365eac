using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace XdpLb.Bpf.Maps;

[InlineArray(4)]
public struct AddrWords
{
    private uint element;
}

/// <summary>struct lb_addr: an address in network byte order; IPv4 in the first word.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct LbAddr : IEquatable<LbAddr>
{
    public AddrWords Words;

    public static LbAddr From(IPAddress address)
    {
        var result = default(LbAddr);
        Span<uint> words = result.Words;
        Span<byte> bytes = MemoryMarshal.AsBytes(words);
        if (!address.TryWriteBytes(bytes, out _))
            throw new ArgumentException($"address {address} does not fit 16 bytes", nameof(address));
        return result;
    }

    public readonly IPAddress ToIPAddress(AddressFamily family)
    {
        ReadOnlySpan<byte> bytes = MemoryMarshal.AsBytes<uint>(Words);
        return new IPAddress(family == AddressFamily.InterNetwork ? bytes[..4] : bytes);
    }

    public readonly bool Equals(LbAddr other) => ((ReadOnlySpan<uint>)Words).SequenceEqual(other.Words);
    public override readonly bool Equals(object? obj) => obj is LbAddr other && Equals(other);
    public override readonly int GetHashCode() => HashCode.Combine(Words[0], Words[1], Words[2], Words[3]);
}
