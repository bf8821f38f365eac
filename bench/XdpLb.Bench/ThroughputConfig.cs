using System.Text;
using XdpLb.Core.Model;

namespace XdpLb.Bench;

// The throughput bench's three rule sets for the same UDP services (the control-plane
// bench's addresses: service i at 10.100.(i>>8).(i&255):80, backend b of it at
// 10.(200+b).(i>>8).(i&255):8080), written into DIR:
//  - xdplb.yaml: the agent's config; limits.connections CONNECTIONS (the new-flow runs add
//    one unanswered connection per packet: once the table is full, each reclaims the oldest);
//  - iptables.rules: kube-proxy's iptables-mode nat table (ControlPlaneBench.KubeProxyRules);
//  - nft.rules: kube-proxy's nftables-mode shape: a verdict map from (daddr . proto . dport)
//    to a chain per service, which picks an endpoint with numgen random mod N. kube-proxy
//    goes on to a chain per endpoint (a hairpin masquerade mark, then the DNAT); here the
//    service chain DNATs through a numgen map directly, because the kernel took 2.5 min to
//    load 100,000 endpoint chains (15 s this way). That is one chain hop less per new flow
//    than kube-proxy: it favours nftables.
// usage: XdpLb.Bench throughput-config DIR SERVICES BACKENDS CONNECTIONS
internal static class ThroughputConfig
{
    public static int Run(string[] args)
    {
        string dir = args[0];
        int services = int.Parse(args[1]), backends = int.Parse(args[2]);
        uint connections = uint.Parse(args[3]);
        var tcp = ControlPlaneBench.Config(services, backends);
        var config = tcp with
        {
            Limits = tcp.Limits with { Connections = connections },
            Services = tcp.Services.Select(s => s with { Protocol = Protocol.Udp }).ToList(),
        };
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, "xdplb.yaml"), ControlPlaneBench.AgentYaml(config));
        File.WriteAllText(Path.Combine(dir, "iptables.rules"), ControlPlaneBench.KubeProxyRules(config, "udp"));
        File.WriteAllText(Path.Combine(dir, "nft.rules"), NftRules(config));
        return 0;
    }

    private static string NftRules(LbConfig config)
    {
        var sb = new StringBuilder("table ip kube-proxy {\n");
        sb.Append("\tmap service-ips {\n\t\ttype ipv4_addr . inet_proto . inet_service : verdict\n\t\telements = {\n");
        for (int i = 0; i < config.Services.Count; i++)
        {
            var s = config.Services[i];
            sb.Append($"\t\t\t{s.Address} . udp . {s.Port} : goto service-{i:X8}-default/{s.Name}/udp/http,\n");
        }
        sb.Append("\t\t}\n\t}\n");
        sb.Append("\tchain services {\n\t\tip daddr . meta l4proto . th dport vmap @service-ips\n\t}\n");
        sb.Append("\tchain nat-prerouting {\n\t\ttype nat hook prerouting priority dstnat; policy accept;\n\t\tjump services\n\t}\n");
        sb.Append("\tchain nat-output {\n\t\ttype nat hook output priority -100; policy accept;\n\t\tjump services\n\t}\n");
        for (int i = 0; i < config.Services.Count; i++)
        {
            var s = config.Services[i];
            sb.Append($"\tchain service-{i:X8}-default/{s.Name}/udp/http {{\n\t\tmeta l4proto udp dnat ip addr . port to numgen random mod {s.Backends.Count} map {{ ");
            sb.Append(string.Join(", ", s.Backends.Select((b, k) => $"{k} : {b.Address} . {b.Port}")));
            sb.Append(" }\n\t}\n");
        }
        sb.Append("}\n");
        return sb.ToString();
    }
}
