using System.Net;
using XdpLb.Core.Model;

namespace XdpLb.Core.Scheduling;

/// <summary>
/// dh as ip_vs_dh.c does it (docs/ipvs.md §2.8): a 256-bucket table with one bucket per dest in
/// round-robin list order (weights play no part in filling), looked up by hash_32 of the packet's
/// destination address. Tables hold indexes into the list order; -1 is an empty bucket.
/// </summary>
public static class DestinationHashing
{
    /// <summary>IP_VS_DH_TAB_BITS: CONFIG_IP_VS_DH_TAB_BITS defaults to 8.</summary>
    public const int TableBits = 8;

    public const int TableSize = 1 << TableBits;

    /// <summary>ip_vs_dh_reassign: bucket i holds dest i mod n.</summary>
    public static int[] BuildTable(IReadOnlyList<Backend> listOrder)
    {
        ArgumentNullException.ThrowIfNull(listOrder);
        var table = new int[TableSize];
        for (int i = 0; i < TableSize; i++)
            table[i] = listOrder.Count == 0 ? -1 : i % listOrder.Count;
        return table;
    }

    /// <summary>ip_vs_dh_hashkey: hash_32(ntohl(addr_fold), 8); no port, no offset.</summary>
    public static uint Bucket(IPAddress destination) => IpvsHash.Hash32(IpvsHash.AddrFold(destination), TableBits);

    /// <summary>
    /// ip_vs_dh_schedule: the bucket's dest if it is usable (weight &gt; 0; every listed dest is
    /// AVAILABLE and our model has no OVERLOAD), otherwise no dest. dh has no fallback.
    /// </summary>
    public static int Pick(int[] table, IReadOnlyList<Backend> listOrder, IPAddress destination)
    {
        ArgumentNullException.ThrowIfNull(table);
        ArgumentNullException.ThrowIfNull(listOrder);
        if (table.Length != TableSize)
            throw new ArgumentException($"a dh table has {TableSize} buckets, not {table.Length}", nameof(table));
        int index = table[Bucket(destination)];
        return index >= 0 && listOrder[index].Weight > 0 ? index : -1;
    }
}
