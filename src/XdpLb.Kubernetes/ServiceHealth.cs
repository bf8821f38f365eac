namespace XdpLb.Kubernetes;

/// <summary>A Service's namespace and name (Kubernetes' NamespacedName).</summary>
public sealed record ServiceName(string Namespace, string Name)
{
    public override string ToString() => $"{Namespace}/{Name}";
}

/// <summary>What the health check of an externalTrafficPolicy: Local Service needs: its port and this node's endpoint count.</summary>
public sealed record ServiceHealth(ushort HealthCheckNodePort, int LocalEndpoints);

/// <summary>A health check port that could not be opened; the next <see cref="ServiceHealthServers.Sync"/> tries again.</summary>
public sealed record ServiceHealthFailure(ServiceName Service, ushort Port, string Reason)
{
    public override string ToString() => $"health check of {Service} on port {Port}: {Reason}";
}
