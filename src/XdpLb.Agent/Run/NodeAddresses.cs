using System.Net;
using System.Net.NetworkInformation;

namespace XdpLb.Agent;

internal static class NodeAddresses
{
    /// <summary>
    /// The served interfaces' addresses, in --interface order. Read anew at each sync, so that
    /// NodePort services follow the node's addresses; IPv6 link-local addresses are left out,
    /// since a NodePort on one could not be reached off the link.
    /// </summary>
    public static IReadOnlyList<IPAddress> Of(IReadOnlyList<string> interfaces) =>
        NetworkInterface.GetAllNetworkInterfaces()
            .Where(i => interfaces.Contains(i.Name))
            .OrderBy(i => interfaces.ToList().IndexOf(i.Name))
            .SelectMany(i => i.GetIPProperties().UnicastAddresses.Select(u => u.Address))
            .Where(a => !a.IsIPv6LinkLocal)
            .ToList();
}
