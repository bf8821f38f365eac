using Microsoft.Extensions.Logging;
using XdpLb.Core.Logging;
using System.Net;
using System.Net.Sockets;

namespace XdpLb.Agent;

/// <summary>
/// Keeps the node's neighbour entries of the backends the stack could not forward to itself
/// resolved. When the FIB has no neighbour for a backend yet, the data path hands the packet
/// to the stack, which resolves it and forwards a nat packet; but a dr packet stays addressed
/// to the VIP, and a masq or tun packet carries the node's own address as its source, which
/// the stack drops as a martian. An empty UDP datagram to the discard port makes the kernel
/// resolve the backend's MAC; the backend's ICMP port unreachable is harmless.
/// </summary>
internal static class NeighborPrimer
{
    public static void Prime(ILogger log, IEnumerable<IPAddress> backends)
    {
        foreach (var address in backends.Distinct())
        {
            try
            {
                using var socket = new Socket(address.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
                socket.SendTo([], new IPEndPoint(address, 9));
            }
            catch (SocketException e)
            {
                log.Warn("could not prime the neighbour entry of a backend", ("backend", address), ("error", e.SocketErrorCode));
            }
        }
    }

    public static IEnumerable<IPAddress> BackendsToPrime(Core.Model.LbConfig config) =>
        config.Services.Where(s => s.Forwarding != Core.Model.Forwarding.Nat).SelectMany(s => s.Backends).Select(b => b.Address);
}
