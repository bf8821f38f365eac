namespace XdpLb.Core.Model;

/// <summary>The whole desired state from one source: global settings and the services.</summary>
public sealed record LbConfig
{
    public Timeouts Timeouts { get; init; } = new();
    public SyncSettings Sync { get; init; } = new();
    public Limits Limits { get; init; } = new();
    public MasqSettings Masq { get; init; } = new();
    public IReadOnlyList<Service> Services { get; init; } = [];
}
