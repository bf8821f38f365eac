using System.Net;
using System.Net.Sockets;

namespace XdpLb.Agent;

/// <summary>
/// Keeps the node's neighbour entries of direct-routing backends resolved. A dr packet stays
/// addressed to the VIP, so when the FIB has no neighbour for the backend yet, the stack that
/// gets the packet cannot resolve it (unlike nat, whose rewritten packet the stack forwards,
/// resolving the next hop). An empty UDP datagram to the discard port makes the kernel
/// resolve the backend's MAC; the backend's ICMP port unreachable is harmless.
/// </summary>
internal static class NeighborPrimer
{
    public static void Prime(IEnumerable<IPAddress> backends)
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
                Log.Warn("could not prime the neighbour entry of a dr backend", ("backend", address), ("error", e.SocketErrorCode));
            }
        }
    }

    public static IEnumerable<IPAddress> DirectBackends(Core.Model.LbConfig config) =>
        config.Services.Where(s => s.Forwarding == Core.Model.Forwarding.Dr).SelectMany(s => s.Backends).Select(b => b.Address);
}
