using XdpLb.Core.Config;
using XdpLb.Core.Model;

namespace XdpLb.Api.Controller;

/// <summary>
/// What the API may declare: services and backends in total count those of the agent's
/// source too (the maps are sized for both); a service's backends are bounded by the data path.
/// </summary>
public sealed record StoreLimits(long Services, long Backends, int BackendsPerService = ConfigValidator.MaxBackendsPerService)
{
    public static StoreLimits Of(Limits limits) => new(limits.Services, limits.Backends);
}
