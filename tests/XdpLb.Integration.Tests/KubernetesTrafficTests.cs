using System.Diagnostics;
using System.Text.Json;
using k8s.Models;
using XdpLb.FakeKubeApi;
using static XdpLb.Kubernetes.Tests.Translation.Objects;

namespace XdpLb.Integration.Tests;

/// <summary>
/// `xdplb run --kubernetes` in the lb namespace, driven by the fake API server listening
/// inside that namespace: the pods' stand-ins (the topology's backends) get real traffic,
/// EndpointSlice updates are followed, kube-proxy's healthz and health check ports answer,
/// and a removed pod's open connection drains at weight 0.
/// </summary>
public sealed class KubernetesTrafficTests : IDisposable
{
    private readonly NetnsTopology topology = new();
    private readonly FakeApiServer api;
    private readonly string kubeconfig = Path.GetTempFileName();
    private readonly string kubeProxyConfig = Path.GetTempFileName();

    public KubernetesTrafficTests()
    {
        api = FakeApiServer.Start(netns: topology.Lb);
        api.WriteKubeconfig(kubeconfig);
        File.WriteAllText(kubeProxyConfig, """
            apiVersion: kubeproxy.config.k8s.io/v1alpha1
            kind: KubeProxyConfiguration
            mode: ipvs
            ipvs:
              scheduler: rr
              minSyncPeriod: 100ms
            """);
        // The Node holds the lb namespace's addresses: with no --interface they are the ones served.
        api.ApplyNode("node-a", ["10.0.1.1", "10.0.11.1", "10.0.12.1", "10.0.13.1"]);
    }

    private AgentProcess StartAgent() => AgentProcess.Start(topology.Lb,
        ["run", "--kubernetes", "--kubeconfig", kubeconfig, "--hostname-override", "node-a", "--kube-proxy-config", kubeProxyConfig,
            .. topology.Home.Flags]);

    private static V1EndpointSlice WebSlice(params int[] backends) =>
        Slice("web", 8080, backends.Select(b => Endpoint($"10.0.1{b}.2", node: b == 1 ? "node-a" : "node-b")).ToArray());

    [Fact]
    public void TrafficReachesThePodsAndFollowsAnEndpointSliceUpdateWithin10Seconds()
    {
        var svc = Service("web", "10.96.0.10", Port(80, nodePort: 30080));
        svc.Spec.Type = "NodePort";
        api.Apply(svc);
        var slice = WebSlice(1, 2, 3);
        api.Apply(slice);
        using var agent = StartAgent();
        Assert.Equal(4, agent.Log.Split('\n').Count(l => l.Contains("msg=\"xdp attached\"")));

        // Sorted endpoints are added in order, so rr picks the last first, as IPVS would.
        Assert.Equal(["b3", "b2", "b1", "b3", "b2", "b1"], Enumerable.Range(0, 6).Select(_ => Get(NetnsTopology.Vip)).ToArray());
        // NodePort on the node's address, masqueraded: the pod sees the node, not the client.
        // busybox httpd listens dual-stack: IPv4 clients show as [::ffff:a.b.c.d].
        Assert.Matches(@"^\[::ffff:10\.0\.1[123]\.1\]$", Get("10.0.1.1:30080", "/cgi-bin/whoami"));

        slice.Endpoints.RemoveAt(2);
        var changed = Stopwatch.StartNew();
        api.Apply(slice);
        while (Enumerable.Range(0, 3).Select(_ => Get(NetnsTopology.Vip)).Contains("b3"))
            Assert.True(changed.Elapsed < TimeSpan.FromSeconds(10), $"b3 still answers {changed.Elapsed} after its endpoint went\n{agent.Log}");
        Assert.Equal(["b1", "b2"], Enumerable.Range(0, 4).Select(_ => Get(NetnsTopology.Vip)).Distinct().Order().ToArray());

        slice.Endpoints.Add(Endpoint("10.0.13.2"));
        api.Apply(slice);
        changed.Restart();
        while (!Enumerable.Range(0, 3).Select(_ => Get(NetnsTopology.Vip)).Contains("b3"))
            Assert.True(changed.Elapsed < TimeSpan.FromSeconds(10), $"b3 not back {changed.Elapsed} after its endpoint returned\n{agent.Log}");
        Assert.Equal(0, agent.Stop());
    }

    [Fact]
    public void HealthzAndTheHealthCheckNodePortAnswerAsKubeProxys()
    {
        var svc = Service("lb", "10.96.0.20", Port(80, nodePort: 30081));
        svc.Spec.Type = "LoadBalancer";
        svc.Spec.ExternalTrafficPolicy = "Local";
        svc.Spec.HealthCheckNodePort = 32000;
        api.Apply(svc);
        var slice = Slice("lb", 8080, Endpoint("10.0.11.2", node: "node-a"), Endpoint("10.0.12.2", node: "node-b"));
        api.Apply(slice);
        using var agent = StartAgent();

        var healthz = Curl(topology.Lb, "http://127.0.0.1:10256/healthz");
        Assert.Equal("200", healthz.Status);
        Assert.True(JsonDocument.Parse(healthz.Body).RootElement.GetProperty("nodeEligible").GetBoolean());
        Assert.Equal("200", Curl(topology.Lb, "http://127.0.0.1:10256/livez").Status);

        var check = WaitForStatus("http://10.0.1.1:32000/", "200");
        var body = JsonDocument.Parse(check.Body).RootElement;
        Assert.Equal(1, body.GetProperty("localEndpoints").GetInt32());
        Assert.Equal("lb", body.GetProperty("service").GetProperty("name").GetString());
        // Local policy keeps the client's address.
        Assert.Equal("[::ffff:10.0.1.2]", Get("10.0.1.1:30081", "/cgi-bin/whoami"));

        slice.Endpoints.RemoveAt(0);
        // The EndpointSlice controller stamps when the change it reflects happened.
        slice.Metadata.Annotations = new Dictionary<string, string>
        {
            ["endpoints.kubernetes.io/last-change-trigger-time"] = DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ"),
        };
        api.Apply(slice);
        check = WaitForStatus("http://10.0.1.1:32000/", "503");
        Assert.Equal(0, JsonDocument.Parse(check.Body).RootElement.GetProperty("localEndpoints").GetInt32());

        // kube-proxy's metric names beside xdplb's.
        var metrics = Curl(topology.Lb, "http://127.0.0.1:9469/metrics").Body;
        Assert.Matches(@"(?m)^kubeproxy_sync_proxy_rules_last_timestamp_seconds [1-9]", metrics);
        Assert.Matches(@"(?m)^kubeproxy_network_programming_duration_seconds_count [1-9]", metrics);
        Assert.Matches(@"(?m)^kubeproxy_sync_proxy_rules_duration_seconds_count [1-9]", metrics);
        Assert.Matches(@"(?m)^kubeproxy_sync_proxy_rules_endpoint_changes_total [1-9]", metrics);
        Assert.Equal(0, agent.Stop());
    }

    [Fact]
    public async Task AControllerDeclaresServicesBesideTheClustersWhichItCannotChange()
    {
        api.Apply(Service("web", "10.96.0.10", Port(80)));
        api.Apply(WebSlice(1, 2, 3));
        using var agent = StartAgent();
        using var channel = XdpLb.Api.UnixSocketChannel.Open(topology.Home.ApiSocket);
        var controller = new XdpLb.Api.V1.Controller.ControllerClient(channel);
        var mesh = new XdpLb.Api.V1.ServiceSpec { Address = "10.96.0.30", Port = 80, Protocol = "tcp", Scheduler = "rr" };
        mesh.Backends.AddRange(new[] { "10.0.11.2", "10.0.12.2" }.Select(a => new XdpLb.Api.V1.BackendSpec { Address = a, Port = 8080 }));

        await controller.ApplyServiceAsync(new XdpLb.Api.V1.ApplyServiceRequest { Controller = "mesh", Service = mesh });
        var sameKey = mesh.Clone();
        sameKey.Address = NetnsTopology.Vip;
        var apply = await Assert.ThrowsAsync<Grpc.Core.RpcException>(async () =>
            await controller.ApplyServiceAsync(new XdpLb.Api.V1.ApplyServiceRequest { Controller = "mesh", Service = sameKey }));
        var delete = await Assert.ThrowsAsync<Grpc.Core.RpcException>(async () => await controller.DeleteServiceAsync(new XdpLb.Api.V1.DeleteServiceRequest
        {
            Controller = "mesh", Service = new XdpLb.Api.V1.ServiceRef { Address = NetnsTopology.Vip, Port = 80, Protocol = "tcp" },
        }));

        // The declared service is served beside the cluster's; the cluster's is as Kubernetes says.
        WaitForList(l => l.Contains("TCP  10.96.0.30:80 rr"), "the declared service");
        Assert.Equal(["b1", "b2"], Enumerable.Range(0, 4).Select(_ => Get("10.96.0.30")).Distinct().Order().ToArray());
        Assert.Equal(["b1", "b2", "b3"], Enumerable.Range(0, 6).Select(_ => Get(NetnsTopology.Vip)).Distinct().Order().ToArray());
        Assert.Equal(Grpc.Core.StatusCode.AlreadyExists, apply.StatusCode);
        Assert.Contains("\"kubernetes\"", apply.Status.Detail);
        Assert.Equal(Grpc.Core.StatusCode.PermissionDenied, delete.StatusCode);
        Assert.Contains("owned by \"kubernetes\"", delete.Status.Detail);
        var listed = await controller.ListServicesAsync(new XdpLb.Api.V1.ListDeclaredServicesRequest());
        Assert.Contains(listed.Services, s => s.Owner == "kubernetes" && s.Spec.Address == NetnsTopology.Vip);
        Assert.Contains(listed.Services, s => s.Owner == "mesh" && s.Spec.Address == "10.96.0.30");
        Assert.Equal(0, agent.Stop());
    }

    [Fact]
    public void ARemovedPodsOpenConnectionDrainsAtWeight0AndTheBackendGoesWhenItEnds()
    {
        api.Apply(Service("web", "10.96.0.10", Port(80)));
        var slice = WebSlice(1, 2, 3);
        api.Apply(slice);
        using var agent = StartAgent();

        // A download left unread holds its connection open; rr gives the first one to b3.
        var holder = Process.Start("ip", ["netns", "exec", topology.Client, "bash", "-c",
            $"exec 3<>/dev/tcp/{NetnsTopology.Vip}/80; printf 'GET /1m.bin HTTP/1.0\\r\\n\\r\\n' >&3; sleep 120"]);
        try
        {
            WaitForList(l => l.Contains("10.0.13.2:8080") && ActiveOf(l, "10.0.13.2:8080") == 1, "b3 holding one active connection");
            slice.Endpoints.RemoveAt(2);
            api.Apply(slice);
            var list = WaitForList(l => WeightOf(l, "10.0.13.2:8080") == 0, "b3 at weight 0");
            Assert.Equal(1, ActiveOf(list, "10.0.13.2:8080"));
            Assert.DoesNotContain("b3", Enumerable.Range(0, 6).Select(_ => Get(NetnsTopology.Vip)));
        }
        finally
        {
            // Killed with unread data in its socket, the client resets the connection.
            holder.Kill(entireProcessTree: true);
            holder.WaitForExit();
        }
        WaitForList(l => !l.Contains("10.0.13.2:8080"), "b3 removed once its connection ended", TimeSpan.FromSeconds(40));
        Assert.Equal(0, agent.Stop());
    }

    private string ListText() => Shell.Run(Repo.Agent, ["list", "-n", "--api-socket", topology.Home.ApiSocket], TimeSpan.FromSeconds(30)).Stdout;

    private string WaitForList(Func<string, bool> condition, string what, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(20));
        string list;
        while (!condition(list = ListText()))
        {
            Assert.True(DateTime.UtcNow < deadline, $"timed out waiting for {what}:\n{list}");
            Thread.Sleep(200);
        }
        return list;
    }

    // `  -> 10.0.13.2:8080   Masq   WEIGHT   ACTIVE   INACTIVE`
    private static string[]? Dest(string list, string dest) =>
        list.Split('\n').Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries)).FirstOrDefault(f => f.Length >= 6 && f[0] == "->" && f[1] == dest);

    private static int WeightOf(string list, string dest) => Dest(list, dest) is { } f ? int.Parse(f[3]) : -1;
    private static int ActiveOf(string list, string dest) => Dest(list, dest) is { } f ? int.Parse(f[4]) : -1;

    private string Get(string hostPort, string path = "/")
    {
        var r = topology.Exec(topology.Client, "curl", "-sS", "--max-time", "5", "-H", "Connection: close", $"http://{hostPort}{path}");
        Assert.True(r.ExitCode == 0, $"curl {hostPort}{path} exited {r.ExitCode}: {r.Stderr}");
        return r.Stdout.Trim();
    }

    private (string Status, string Body) Curl(string netns, string url)
    {
        var r = topology.Exec(netns, "curl", "-sS", "--max-time", "5", "-w", "\n%{http_code}", url);
        var lines = r.Stdout.TrimEnd().Split('\n');
        return (lines[^1], string.Join('\n', lines[..^1]));
    }

    private (string Status, string Body) WaitForStatus(string url, string status)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        (string Status, string Body) r;
        while ((r = Curl(topology.Client, url)).Status != status)
        {
            Assert.True(DateTime.UtcNow < deadline, $"{url} answered {r.Status} {r.Body}, not {status}");
            Thread.Sleep(200);
        }
        return r;
    }

    public void Dispose()
    {
        api.Dispose();
        topology.Dispose();
        File.Delete(kubeconfig);
        File.Delete(kubeProxyConfig);
    }
}
