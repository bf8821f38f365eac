namespace XdpLb.Core.Model;

/// <summary>IPVS's three settable timeouts (ipvsadm --set), in seconds.</summary>
public sealed record Timeouts(uint Tcp = 900, uint TcpFin = 120, uint Udp = 300);

/// <summary>kube-proxy's minSyncPeriod (batching window) and syncPeriod (full resync).</summary>
public sealed record SyncSettings
{
    public TimeSpan MinSyncPeriod { get; init; } = TimeSpan.FromSeconds(1);
    public TimeSpan SyncPeriod { get; init; } = TimeSpan.FromSeconds(30);
}

/// <summary>Map capacities, fixed when the BPF object is loaded.</summary>
public sealed record Limits(uint Services = 100_000, uint Backends = 1_000_000, uint Connections = 1_000_000);

public sealed record PortRange(ushort First = 32768, ushort Last = 60999)
{
    public override string ToString() => $"{First}-{Last}";
}

public sealed record MasqSettings
{
    public PortRange PortRange { get; init; } = new();
}
