using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace XdpLb.Core.Scheduling;

/// <summary>
/// The hash primitives the kernel's sh, dh and mh schedulers use (docs/ipvs.md §3), bit for
/// bit, so the data path and the reference models agree with a real kernel's choices.
/// </summary>
public static class IpvsHash
{
    /// <summary>GOLDEN_RATIO_32 from include/linux/hash.h.</summary>
    public const uint GoldenRatio32 = 0x61C88647;

    /// <summary>
    /// hash_32(): multiply by GOLDEN_RATIO_32 and keep the <b>high</b> <paramref name="bits"/> bits.
    /// Old kernels kept the low bits of a different product; current ones (verified on 6.1) use this.
    /// </summary>
    public static uint Hash32(uint value, int bits)
    {
        if (bits is < 1 or > 32)
            throw new ArgumentOutOfRangeException(nameof(bits), bits, "hash_32 takes 1..32 bits");
        return unchecked(value * GoldenRatio32) >> (32 - bits);
    }

    /// <summary>
    /// ntohl(addr_fold) as ip_vs_sh/dh/mh_hashkey compute it: the IPv4 address as its big-endian
    /// number; for IPv6 the XOR of the four 32-bit words (XOR commutes with the byte swap, so this
    /// is the XOR of the words read as big-endian numbers).
    /// </summary>
    public static uint AddrFold(IPAddress a)
    {
        ArgumentNullException.ThrowIfNull(a);
        Span<byte> bytes = stackalloc byte[16];
        if (!a.TryWriteBytes(bytes, out int written))
            throw new ArgumentException($"cannot read the bytes of {a}", nameof(a));
        return (a.AddressFamily, written) switch
        {
            (AddressFamily.InterNetwork, 4) => BinaryPrimitives.ReadUInt32BigEndian(bytes),
            (AddressFamily.InterNetworkV6, 16) =>
                BinaryPrimitives.ReadUInt32BigEndian(bytes[..4]) ^
                BinaryPrimitives.ReadUInt32BigEndian(bytes[4..8]) ^
                BinaryPrimitives.ReadUInt32BigEndian(bytes[8..12]) ^
                BinaryPrimitives.ReadUInt32BigEndian(bytes[12..16]),
            _ => throw new ArgumentException($"{a} is neither IPv4 nor IPv6", nameof(a)),
        };
    }

    /// <summary>
    /// hsiphash(&amp;v, 4, key) for a uint32 <c>v</c>, i.e. its 4 bytes in little-endian (x86/arm64
    /// host) order. Equal to the kernel's hsiphash_1u32(v, key).
    /// </summary>
    public static uint HSipHash(uint value, ulong key0, ulong key1)
    {
        Span<byte> bytes = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(bytes, value);
        return HSipHash(bytes, key0, key1);
    }

    /// <summary>
    /// The kernel's hsiphash() as built for 64-bit (BITS_PER_LONG == 64), where lib/siphash.c makes
    /// "HalfSipHash-1-3" actually SipHash-1-3 over 64-bit words with the two 64-bit key words, and
    /// returns the low 32 bits of the 64-bit result. A 32-bit kernel (real HalfSipHash) would differ.
    /// </summary>
    public static uint HSipHash(ReadOnlySpan<byte> data, ulong key0, ulong key1) =>
        unchecked((uint)SipHash(data, key0, key1, compressionRounds: 1, finalizationRounds: 3));

    /// <summary>
    /// SipHash-c-d with the kernel's key layout (v0, v2 take key[0]; v1, v3 take key[1]), 8-byte
    /// little-endian blocks and the length in the top byte of the last block. The kernel's
    /// siphash() is 2-4; its 64-bit hsiphash() is 1-3. Public so the core can be checked against
    /// the published SipHash-2-4 vectors.
    /// </summary>
    public static ulong SipHash(ReadOnlySpan<byte> data, ulong key0, ulong key1, int compressionRounds,
        int finalizationRounds)
    {
        ulong v0 = 0x736f6d6570736575UL ^ key0;
        ulong v1 = 0x646f72616e646f6dUL ^ key1;
        ulong v2 = 0x6c7967656e657261UL ^ key0;
        ulong v3 = 0x7465646279746573UL ^ key1;
        ulong b = (ulong)data.Length << 56;

        int whole = data.Length & ~7;
        for (int i = 0; i < whole; i += 8)
        {
            ulong m = BinaryPrimitives.ReadUInt64LittleEndian(data[i..]);
            v3 ^= m;
            for (int r = 0; r < compressionRounds; r++)
                Round(ref v0, ref v1, ref v2, ref v3);
            v0 ^= m;
        }
        // The 0..7 tail bytes go into the low bytes of b, little-endian, under the length byte.
        for (int i = whole; i < data.Length; i++)
            b |= (ulong)data[i] << (8 * (i - whole));

        v3 ^= b;
        for (int r = 0; r < compressionRounds; r++)
            Round(ref v0, ref v1, ref v2, ref v3);
        v0 ^= b;
        v2 ^= 0xff;
        for (int r = 0; r < finalizationRounds; r++)
            Round(ref v0, ref v1, ref v2, ref v3);
        return v0 ^ v1 ^ v2 ^ v3;
    }

    // SIPROUND / SIPHASH_PERMUTATION from include/linux/siphash.h.
    private static void Round(ref ulong v0, ref ulong v1, ref ulong v2, ref ulong v3)
    {
        unchecked
        {
            v0 += v1; v1 = ulong.RotateLeft(v1, 13); v1 ^= v0; v0 = ulong.RotateLeft(v0, 32);
            v2 += v3; v3 = ulong.RotateLeft(v3, 16); v3 ^= v2;
            v0 += v3; v3 = ulong.RotateLeft(v3, 21); v3 ^= v0;
            v2 += v1; v1 = ulong.RotateLeft(v1, 17); v1 ^= v2; v2 = ulong.RotateLeft(v2, 32);
        }
    }
}
