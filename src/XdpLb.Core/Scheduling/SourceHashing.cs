using System.Net;
using XdpLb.Core.Model;

namespace XdpLb.Core.Scheduling;

/// <summary>
/// sh as ip_vs_sh.c does it (docs/ipvs.md §2.7): a 256-bucket table filled in list order with
/// <c>weight</c> consecutive buckets per dest, looked up by hash_32 of the client address (plus
/// the client port with sh-port). Tables hold indexes into the list order; -1 is an empty bucket.
/// </summary>
public static class SourceHashing
{
    /// <summary>IP_VS_SH_TAB_BITS: CONFIG_IP_VS_SH_TAB_BITS defaults to 8.</summary>
    public const int TableBits = 8;

    public const int TableSize = 1 << TableBits;

    private const uint TableMask = TableSize - 1;

    /// <summary>
    /// ip_vs_sh_reassign: walk the buckets while cycling through the list; a dest keeps taking
    /// buckets until it has <c>weight</c> of them, so weight 0 still takes one (unusable) bucket.
    /// </summary>
    public static int[] BuildTable(IReadOnlyList<Backend> listOrder)
    {
        ArgumentNullException.ThrowIfNull(listOrder);
        var table = new int[TableSize];
        if (listOrder.Count == 0)
        {
            Array.Fill(table, -1);
            return table;
        }
        int dest = 0, taken = 0;
        for (int i = 0; i < TableSize; i++)
        {
            table[i] = dest;
            if (++taken >= listOrder[dest].Weight)
            {
                dest = (dest + 1) % listOrder.Count;
                taken = 0;
            }
        }
        return table;
    }

    /// <summary>
    /// ip_vs_sh_hashkey at offset 0: hash_32(ntohs(port) + ntohl(addr_fold), 8), the sum in uint32.
    /// The port counts only with sh-port.
    /// </summary>
    public static uint Bucket(IPAddress client, ushort clientPort, bool shPort) =>
        IpvsHash.Hash32(unchecked((shPort ? clientPort : 0u) + IpvsHash.AddrFold(client)), TableBits) & TableMask;

    /// <summary>
    /// ip_vs_sh_schedule. Without sh-fallback an unusable bucket means no dest. With it, the
    /// kernel probes buckets (i + 2*ihash) &amp; 255 for i = 0..255 (the offset is added outside the
    /// hash, and ihash is counted twice) and gives up at the first empty bucket.
    /// </summary>
    public static int Pick(int[] table, IReadOnlyList<Backend> listOrder, IPAddress client, ushort clientPort,
        bool shPort, bool shFallback)
    {
        ArgumentNullException.ThrowIfNull(table);
        ArgumentNullException.ThrowIfNull(listOrder);
        if (table.Length != TableSize)
            throw new ArgumentException($"an sh table has {TableSize} buckets, not {table.Length}", nameof(table));

        uint ihash = Bucket(client, clientPort, shPort);
        int first = table[ihash];
        if (first < 0)
            return -1;
        if (IsAvailable(listOrder, first))
            return first;
        if (!shFallback)
            return -1;

        for (uint offset = 0; offset < TableSize; offset++)
        {
            uint roffset = (offset + ihash) % TableSize;
            int candidate = table[(roffset + ihash) & TableMask];
            if (candidate < 0)
                break;
            if (IsAvailable(listOrder, candidate))
                return candidate;
        }
        return -1;
    }

    // is_unavailable() without OVERLOAD, which our model does not have.
    private static bool IsAvailable(IReadOnlyList<Backend> listOrder, int index) => listOrder[index].Weight > 0;
}
