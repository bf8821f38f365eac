using System.Globalization;
using System.Text;

namespace XdpLb.Core.Status;

/// <summary>
/// What `xdplb list --stats` prints after ipvsadm's table: the connections and datagrams the
/// socket hooks gave each backend. Apart from the table, so that the table stays ipvsadm's.
/// </summary>
public static class SocketTranslationsFormat
{
    /// <summary>The section, or "" when no backend has socket counters (no hooks attached).</summary>
    public static string Section(IReadOnlyList<VirtualServer> services)
    {
        if (!services.Any(s => s.RealServers.Any(d => d.Socket is not null)))
            return "";
        var sb = new StringBuilder("Socket-level translations (connections from the node and its pods)\n");
        sb.Append(CultureInfo.InvariantCulture, $"{"Prot LocalAddress:Port",-33} {"Connects",9} {"Datagrams",9}\n");
        sb.Append("  -> RemoteAddress:Port\n");
        foreach (var s in IpvsAdmFormat.Sorted(services))
        {
            var dests = IpvsAdmFormat.SortedDests(s).ToList();
            sb.Append(CultureInfo.InvariantCulture,
                $"{IpvsAdmFormat.ServiceName(s),-33} {dests.Sum(d => (decimal)(d.Socket?.Connects ?? 0)),9} {dests.Sum(d => (decimal)(d.Socket?.Datagrams ?? 0)),9}\n");
            foreach (var d in dests)
                sb.Append(CultureInfo.InvariantCulture,
                    $"  -> {IpvsAdmFormat.Endpoint(d.Address, d.Port),-28} {d.Socket?.Connects ?? 0,9} {d.Socket?.Datagrams ?? 0,9}\n");
        }
        return sb.ToString();
    }
}
