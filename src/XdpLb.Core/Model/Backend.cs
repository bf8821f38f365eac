using System.Net;

namespace XdpLb.Core.Model;

/// <summary>A real server of a service. Weight 0 takes no new connections (IPVS quiescing).</summary>
public sealed record Backend(IPAddress Address, ushort Port, ushort Weight = 1, bool Local = false)
{
    public override string ToString() => Address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6
        ? $"[{Address}]:{Port}" : $"{Address}:{Port}";
}
