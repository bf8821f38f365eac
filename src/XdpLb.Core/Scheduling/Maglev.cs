using System.Net;
using System.Numerics;
using XdpLb.Core.Model;

namespace XdpLb.Core.Scheduling;

/// <summary>
/// mh as ip_vs_mh.c does it (docs/ipvs.md §2.9, §3.3) with the default CONFIG_IP_VS_MH_TAB_INDEX = 12:
/// a 4093-slot Maglev table filled from per-dest permutations, looked up by hsiphash of the client
/// address (plus the client port with mh-port). Tables hold indexes into the list order; -1 is an
/// empty slot.
/// </summary>
/// <remarks>
/// Every hash goes through ip_vs_mh_hashkey: it hashes the 4 bytes, in little-endian host order, of
/// the uint32 <c>offset + ntohs(port) + ntohl(addr_fold)</c>. For a dest's permutation that is its
/// own address and port with offset 0 (so 10.200.11.2:8080 hashes 0x0AC80B02 + 8080 = 0x0AC82A92,
/// bytes 92 2A C8 0A); an IPv6 dest is folded to the XOR of its four words first. The address
/// bytes themselves are never hashed.
/// </remarks>
public static class Maglev
{
    /// <summary>primes[CONFIG_IP_VS_MH_TAB_INDEX - 8] for the default index 12.</summary>
    public const int TableSize = 4093;

    /// <summary>IP_VS_MH_TAB_BITS = CONFIG_IP_VS_MH_TAB_INDEX / 2.</summary>
    public const int TableBits = 6;

    /// <summary>generate_hash_secret: both words of hash1 (offset and lookup).</summary>
    public const ulong Hash1Key = 2654435761UL;

    /// <summary>generate_hash_secret: both words of hash2 (skip).</summary>
    public const ulong Hash2Key = 2654446892UL;

    /// <summary>ip_vs_mh_hashkey: hsiphash of the uint32 offset + port + folded address.</summary>
    public static uint HashKey(IPAddress address, ushort port, ulong key, uint offset = 0) =>
        IpvsHash.HSipHash(unchecked(offset + port + IpvsHash.AddrFold(address)), key, key);

    /// <summary>ip_vs_mh_permutate: where a dest starts in the table and how far it steps.</summary>
    public static (uint Offset, uint Skip) Permutation(Backend b)
    {
        ArgumentNullException.ThrowIfNull(b);
        uint offset = HashKey(b.Address, b.Port, Hash1Key) % TableSize;
        uint skip = HashKey(b.Address, b.Port, Hash2Key) % (TableSize - 1) + 1;
        return (offset, skip);
    }

    /// <summary>
    /// ip_vs_mh_reassign. Filling uses each dest's last non-zero weight (<paramref name="lastWeights"/>,
    /// in list order, defaulting to the current weights), so quiescing a dest to weight 0 leaves its
    /// slots in place; they only become unusable. Turns per round are last_weight / gcd, shifted right
    /// so the largest fits in IP_VS_MH_TAB_BITS bits, and at least 1 for a non-zero last_weight.
    /// </summary>
    public static int[] BuildTable(IReadOnlyList<Backend> listOrder, IReadOnlyList<ushort>? lastWeights = null)
    {
        ArgumentNullException.ThrowIfNull(listOrder);
        int n = listOrder.Count;
        if (n > TableSize)
            throw new ArgumentException($"mh takes at most {TableSize} dests, not {n} (the kernel fails with EINVAL)",
                nameof(listOrder));
        if (lastWeights is not null && lastWeights.Count != n)
            throw new ArgumentException($"{lastWeights.Count} last weights for {n} dests", nameof(lastWeights));

        var weights = new int[n];
        for (int i = 0; i < n; i++)
            weights[i] = lastWeights?[i] ?? listOrder[i].Weight;

        var table = new int[TableSize];
        Array.Fill(table, -1);

        // ip_vs_mh_gcd_weight: 0 when there is no positive last_weight, and then the table is emptied.
        int g = 0;
        foreach (int w in weights)
            if (w > 0)
                g = g > 0 ? Gcd(w, g) : w;
        if (g < 1)
            return table;
        int rshift = Math.Max(0, Fls(weights.Max() / g) - TableBits);

        var perm = new uint[n];
        var skip = new uint[n];
        var turns = new int[n];
        for (int i = 0; i < n; i++)
        {
            (perm[i], skip[i]) = Permutation(listOrder[i]);
            int t = (weights[i] / g) >> rshift;
            turns[i] = t != 0 ? t : (weights[i] != 0 ? 1 : 0);
        }

        // ip_vs_mh_populate: rounds over the list; each dest claims up to `turns` slots per round,
        // each the next free slot along its permutation.
        int filled = 0;
        while (true)
        {
            for (int i = 0; i < n; i++)
            {
                for (int turn = 0; turn < turns[i]; turn++)
                {
                    while (table[perm[i]] >= 0)
                    {
                        perm[i] += skip[i];
                        if (perm[i] >= TableSize)
                            perm[i] -= TableSize;
                    }
                    table[perm[i]] = i;
                    if (++filled == TableSize)
                        return table;
                }
            }
        }
    }

    /// <summary>
    /// The lookup slot: hsiphash(offset + port + addr, hash1) % M, the port counting only with
    /// mh-port. Fallback probes pass their offset here: unlike sh, it goes inside the hash.
    /// </summary>
    public static int Slot(IPAddress client, ushort clientPort, bool mhPort, uint offset = 0) =>
        (int)(HashKey(client, mhPort ? clientPort : (ushort)0, Hash1Key, offset) % TableSize);

    /// <summary>
    /// ip_vs_mh_schedule. Without mh-fallback an unusable slot means no dest. With it, the kernel
    /// re-hashes with offsets (i + ihash) % M for i = 0..M-1 and gives up at the first empty slot.
    /// </summary>
    public static int Pick(int[] table, IReadOnlyList<Backend> listOrder, IPAddress client, ushort clientPort,
        bool mhPort, bool mhFallback)
    {
        ArgumentNullException.ThrowIfNull(table);
        ArgumentNullException.ThrowIfNull(listOrder);
        if (table.Length != TableSize)
            throw new ArgumentException($"an mh table has {TableSize} slots, not {table.Length}", nameof(table));

        int ihash = Slot(client, clientPort, mhPort);
        int first = table[ihash];
        if (first < 0)
            return -1;
        if (listOrder[first].Weight > 0)
            return first;
        if (!mhFallback)
            return -1;

        for (uint offset = 0; offset < TableSize; offset++)
        {
            uint roffset = (offset + (uint)ihash) % TableSize;
            int candidate = table[Slot(client, clientPort, mhPort, roffset)];
            if (candidate < 0)
                break;
            if (listOrder[candidate].Weight > 0)
                return candidate;
        }
        return -1;
    }

    private static int Gcd(int a, int b)
    {
        while (b != 0)
            (a, b) = (b, a % b);
        return a;
    }

    // fls(): 1-based index of the highest set bit, 0 for 0.
    private static int Fls(int x) => x <= 0 ? 0 : 32 - BitOperations.LeadingZeroCount((uint)x);
}
