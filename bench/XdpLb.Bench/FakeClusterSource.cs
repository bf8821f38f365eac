using k8s.Models;
using XdpLb.Core.Model;
using XdpLb.FakeKubeApi;
using static XdpLb.Kubernetes.Tests.Translation.Objects;

namespace XdpLb.Bench;

/// <summary>
/// The services as a cluster would hold them: a ClusterIP Service and one EndpointSlice each,
/// and this node's Node, in the fake API server listening inside the node's namespace (so the
/// agent reaches it on 127.0.0.1). A change is one EndpointSlice applied anew.
/// </summary>
internal sealed class FakeClusterSource : IBenchSource
{
    public const string NodeName = "bench-node";

    private readonly FakeApiServer api;
    private readonly LbConfig config;
    private readonly V1EndpointSlice[] slices;
    private readonly string kubeconfig;
    private readonly string kubeProxyConfig;

    public FakeClusterSource(ScratchNode node, LbConfig config, string minSyncPeriod)
    {
        this.config = config;
        api = FakeApiServer.Start(netns: node.Netns);
        try
        {
            api.ApplyNode(NodeName, [ScratchNode.Address]);
            slices = new V1EndpointSlice[config.Services.Count];
            for (int i = 0; i < config.Services.Count; i++)
            {
                var s = config.Services[i];
                api.Apply(Service(s.Name!, s.Address!.ToString(), Port(s.Port)));
                slices[i] = Slice(s.Name!, s.Backends[0].Port, [.. s.Backends.Select(b => Endpoint(b.Address.ToString()))]);
                api.Apply(slices[i]);
            }
        }
        catch
        {
            api.Dispose();
            throw;
        }
        kubeconfig = node.File("kubeconfig");
        api.WriteKubeconfig(kubeconfig);
        kubeProxyConfig = node.File("kube-proxy.yaml");
        // syncPeriod out of the way: a periodic full resync would land in the latency figures.
        File.WriteAllText(kubeProxyConfig, $"""
            apiVersion: kubeproxy.config.k8s.io/v1alpha1
            kind: KubeProxyConfiguration
            mode: ipvs
            ipvs:
              minSyncPeriod: {minSyncPeriod}
              syncPeriod: 1h
            """);
    }

    public string[] AgentArgs => ["run", "--kubernetes", "--kubeconfig", kubeconfig, "--hostname-override", NodeName,
        "--kube-proxy-config", kubeProxyConfig];

    public DateTime ChangeBackend(int service, bool remove)
    {
        var slice = slices[service];
        if (remove)
            slice.Endpoints.RemoveAt(slice.Endpoints.Count - 1);
        else
            slice.Endpoints.Add(Endpoint(config.Services[service].Backends[^1].Address.ToString()));
        var now = DateTime.UtcNow;
        api.Apply(slice);
        return now;
    }

    public void Dispose() => api.Dispose();
}
