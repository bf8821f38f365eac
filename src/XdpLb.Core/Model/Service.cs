using System.Net;
using System.Net.Sockets;

namespace XdpLb.Core.Model;

/// <summary>What identifies a virtual service: IPVS's (address, port, protocol).</summary>
public sealed record ServiceKey(IPAddress Address, ushort Port, Protocol Protocol)
{
    public override string ToString() => Address.AddressFamily == AddressFamily.InterNetworkV6
        ? $"[{Address}]:{Port}/{Names.Of(Protocol)}" : $"{Address}:{Port}/{Names.Of(Protocol)}";
}

/// <summary>
/// A virtual service. Backends are kept in the order they were listed, which is the order
/// they are added to IPVS (and so decides rr's first pick: the last-listed).
/// </summary>
public sealed record Service
{
    public string? Name { get; init; }
    /// <summary>Null only for nodePort services, which match every local address.</summary>
    public IPAddress? Address { get; init; }
    public required ushort Port { get; init; }
    public Protocol Protocol { get; init; } = Protocol.Tcp;
    public Scheduler Scheduler { get; init; } = Scheduler.Rr;
    public IReadOnlyList<SchedulerFlag> Flags { get; init; } = [];
    /// <summary>ClientIP affinity timeout in seconds; 0 is off.</summary>
    public uint Persistence { get; init; }
    public Forwarding Forwarding { get; init; } = Forwarding.Nat;
    public bool NodePort { get; init; }
    public TrafficPolicy ExternalTrafficPolicy { get; init; } = TrafficPolicy.Cluster;
    public IReadOnlyList<string> SourceRanges { get; init; } = [];
    /// <summary>
    /// nat services: clients outside the cluster CIDRs (LbConfig.ClusterCidrs) are masqueraded,
    /// as kube-proxy does for ClusterIP traffic from outside clusterCIDR: their answers must
    /// come back through this node. Pods (inside) keep their address.
    /// </summary>
    public bool MasqueradeOutsideCluster { get; init; }
    public IReadOnlyList<Backend> Backends { get; init; } = [];

    public ServiceKey? Key => Address is null ? null : new ServiceKey(Address, Port, Protocol);

    /// <summary>How error messages name this service.</summary>
    public string Label => (Name, Key) switch
    {
        (not null, not null) => $"service \"{Name}\" ({Key})",
        (not null, null) => $"service \"{Name}\"",
        (null, not null) => $"service {Key}",
        _ => $"service :{Port}/{Names.Of(Protocol)}",
    };
}
