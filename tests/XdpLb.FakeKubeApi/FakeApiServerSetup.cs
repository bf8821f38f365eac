using k8s.Models;

namespace XdpLb.FakeKubeApi;

/// <summary>What an agent needs to run against the fake server: a kubeconfig and its Node.</summary>
public static class FakeApiServerSetup
{
    /// <summary>A kubeconfig pointing at the server on loopback (in the namespace it listens in), with a token it ignores.</summary>
    public static void WriteKubeconfig(this FakeApiServer api, string path) => File.WriteAllText(path, $$$"""
        apiVersion: v1
        kind: Config
        clusters: [{name: fake, cluster: {server: "http://127.0.0.1:{{{api.Port}}}"}}]
        users: [{name: nobody, user: {token: fake}}]
        contexts: [{name: fake, context: {cluster: fake, user: nobody}}]
        current-context: fake
        """);

    /// <summary>The agent's Node, holding these InternalIP addresses (with no --interface, the ones served).</summary>
    public static void ApplyNode(this FakeApiServer api, string name, IEnumerable<string> internalIps) => api.Apply(new V1Node
    {
        ApiVersion = "v1",
        Kind = "Node",
        Metadata = new V1ObjectMeta { Name = name },
        Status = new V1NodeStatus { Addresses = internalIps.Select(a => new V1NodeAddress { Type = "InternalIP", Address = a }).ToList() },
    });
}
