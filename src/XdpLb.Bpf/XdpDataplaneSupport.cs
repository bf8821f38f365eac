using XdpLb.Bpf.Maps;
using XdpLb.Core.Model;

namespace XdpLb.Bpf;

/// <summary>
/// What the XDP data path implements so far: every IPVS scheduler, nat, masq, dr and tun
/// forwarding of TCP and UDP, with IPVS's connection states and timeouts. Anything else in a config is refused
/// by name rather than silently ignored.
/// </summary>
public static class XdpDataplaneSupport
{
    public static IReadOnlyList<string> Unsupported(LbConfig config)
    {
        var errors = new List<string>();
        foreach (var s in config.Services)
        {
            void Refuse(string key, string value) => errors.Add($"{s.Label}: {key}: \"{value}\" is not supported by the XDP dataplane yet");
            if (s.Protocol == Protocol.Sctp)
                Refuse("protocol", Names.Of(s.Protocol));
            if (s.Scheduler == Scheduler.Wrr && s.Backends.Count > WrrTable.MaxDests)
                errors.Add($"{s.Label}: backends: {s.Backends.Count} backends, but the XDP dataplane's wrr takes at most {WrrTable.MaxDests}");
            if (s.ExternalTrafficPolicy != TrafficPolicy.Cluster && !s.NodePort)
                errors.Add($"{s.Label}: externalTrafficPolicy: \"{Names.Of(s.ExternalTrafficPolicy)}\" applies to nodePort services only");
        }
        return errors;
    }
}
