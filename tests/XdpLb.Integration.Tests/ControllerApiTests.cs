using Grpc.Core;
using XdpLb.Api.V1;

namespace XdpLb.Integration.Tests;

/// <summary>
/// xdplb.v1.Controller against the real agent: a service declared over the unix socket is
/// balanced in the topology, refused writes leave the dataplane as it was, and a restarted
/// agent serves the declared service from its first sync.
/// </summary>
public sealed class ControllerApiTests : IDisposable
{
    private readonly NetnsTopology topology = new();
    private readonly string configFile = Path.GetTempFileName();

    // The config file's own service: owned by "config", read-only over the API.
    private const string Config = """
        services:
          - {name: api, address: 10.96.0.11, port: 80, backends: [{address: 10.0.12.2, port: 8080}]}
        """;

    private static ServiceSpec Web(params string[] backends)
    {
        var spec = new ServiceSpec { Name = "web", Address = NetnsTopology.Vip, Port = 80, Scheduler = "rr" };
        spec.Backends.AddRange(backends.Select(b => new BackendSpec { Address = b, Port = 8080 }));
        return spec;
    }

    private static ServiceRef WebRef => new() { Address = NetnsTopology.Vip, Port = 80, Protocol = "tcp" };

    [Fact]
    public async Task AnAppliedServiceIsBalancedRefusalsChangeNothingAndARestartKeepsIt()
    {
        File.WriteAllText(configFile, Config);
        using (var agent = AgentProcess.Start(topology.Lb, topology.AgentArgs(configFile)))
        {
            using var channel = XdpLb.Api.UnixSocketChannel.Open(topology.Home.ApiSocket);
            var api = new Controller.ControllerClient(channel);

            var applied = await api.ApplyServiceAsync(new ApplyServiceRequest
            {
                Controller = "mesh", Service = Web(NetnsTopology.BackendAddresses), ExpectedGeneration = 0,
            });
            Assert.Equal(("mesh", 1UL), (applied.Owner, applied.Generation));
            WaitForList(l => l.Contains("TCP  10.96.0.10:80 rr"), agent);
            var answers = Enumerable.Range(0, 6).Select(_ => Get(NetnsTopology.Vip)).ToList();
            Assert.Equal(["b1", "b2", "b3"], answers.Distinct().Order());
            Assert.All(answers.GroupBy(a => a), g => Assert.Equal(2, g.Count()));
            string before = Servers();

            var stale = await Refused(api.ApplyServiceAsync(new ApplyServiceRequest
            {
                Controller = "mesh", Service = Web("10.0.11.2"), ExpectedGeneration = 7,
            }));
            var foreign = await Refused(api.DeleteServiceAsync(new DeleteServiceRequest { Controller = "fleet", Service = WebRef }));
            var invalid = await Refused(api.ApplyServiceAsync(new ApplyServiceRequest { Controller = "mesh", Service = Web("10.0.11.2", "10.0.12") }));
            var oversized = Web("10.0.11.2");
            oversized.Name = new string('x', 5 << 20);
            var tooLarge = await Refused(api.ApplyServiceAsync(new ApplyServiceRequest { Controller = "mesh", Service = oversized }));
            var configOwned = await Refused(api.ApplyServiceAsync(new ApplyServiceRequest
            {
                Controller = "mesh", Service = new ServiceSpec { Address = "10.96.0.11", Port = 80, Backends = { new BackendSpec { Address = "10.0.11.2" } } },
            }));

            Assert.Equal(StatusCode.FailedPrecondition, stale.StatusCode);
            Assert.Equal(StatusCode.PermissionDenied, foreign.StatusCode);
            Assert.Contains("\"mesh\"", foreign.Status.Detail);
            Assert.Equal(StatusCode.InvalidArgument, invalid.StatusCode);
            Assert.Contains("service.backends[1].address: \"10.0.12\" is not an IP address", invalid.Status.Detail);
            Assert.Equal(StatusCode.ResourceExhausted, tooLarge.StatusCode);
            Assert.Equal(StatusCode.AlreadyExists, configOwned.StatusCode);
            Assert.Contains("\"config\"", configOwned.Status.Detail);

            // An accepted write after the refusals: once it shows, every earlier write has been applied too.
            var drained = await api.PatchBackendsAsync(new PatchBackendsRequest
            {
                Controller = "mesh", Service = WebRef, ExpectedGeneration = 1,
                Changes = { new BackendChange { Drain = new BackendRef { Address = "10.0.13.2", Port = 8080 } } },
            });
            Assert.Equal(2UL, drained.Generation);
            WaitForList(l => l.Contains("10.0.13.2:8080               Masq    0"), agent);
            Assert.Equal(before.Replace("10.0.13.2:8080 Masq 1", "10.0.13.2:8080 Masq 0"), Servers());
            Assert.Equal(["config 10.96.0.11", "mesh 10.96.0.10"],
                (await api.ListServicesAsync(new ListDeclaredServicesRequest())).Services.Select(s => $"{s.Owner} {s.Spec.Address}").Order());

            // The file now declares the API's key too: the second one is told, the API's service stays.
            // Taken before the write, and the file renamed into place: the watcher must never
            // read it half-written (that would be a config without 10.96.0.11).
            string synced = Servers();
            File.WriteAllText(configFile + ".new", Config + "\n  - {address: 10.96.0.10, port: 80, backends: [{address: 10.0.11.2, port: 8080}]}\n");
            File.Move(configFile + ".new", configFile, overwrite: true);
            agent.Reload();
            Assert.Contains("reported to the second one", agent.Log);
            Assert.Equal(synced, Servers());
            Assert.Equal(0, agent.Stop());
        }

        using (var agent = AgentProcess.Start(topology.Lb, topology.AgentArgs(configFile)))
        {
            // From the first sync: no write since the restart.
            Assert.Contains("TCP  10.96.0.10:80 rr", List());
            Assert.Contains("10.0.13.2:8080 Masq 0", Servers());
            Assert.Equal(["b1", "b2"], Enumerable.Range(0, 4).Select(_ => Get(NetnsTopology.Vip)).Distinct().Order());
            using var channel = XdpLb.Api.UnixSocketChannel.Open(topology.Home.ApiSocket);
            var web = await new Controller.ControllerClient(channel).GetServiceAsync(new GetServiceRequest { Service = WebRef });
            Assert.Equal(("mesh", 2UL), (web.Owner, web.Generation));
            Assert.Equal(0, agent.Stop());
        }
    }

    [Fact]
    public async Task WatchSeesEachChangeAndCountersStreamPerBackend()
    {
        File.WriteAllText(configFile, Config);
        using var agent = AgentProcess.Start(topology.Lb, topology.AgentArgs(configFile));
        using var channel = XdpLb.Api.UnixSocketChannel.Open(topology.Home.ApiSocket);
        var api = new Controller.ControllerClient(channel);
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        using var watch = api.WatchServices(new WatchServicesRequest(), cancellationToken: cancel.Token);

        Assert.True(await watch.ResponseStream.MoveNext(cancel.Token));
        Assert.Equal((ServiceEvent.Types.Type.Added, "config", "10.96.0.11"),
            (watch.ResponseStream.Current.Type, watch.ResponseStream.Current.Service.Owner, watch.ResponseStream.Current.Service.Spec.Address));
        await api.ApplyServiceAsync(new ApplyServiceRequest { Controller = "mesh", Service = Web("10.0.11.2") });
        await api.ApplyServiceAsync(new ApplyServiceRequest { Controller = "mesh", Service = Web("10.0.11.2", "10.0.13.2") });
        var events = new List<string>();
        for (int i = 0; i < 2 && await watch.ResponseStream.MoveNext(cancel.Token); i++)
            events.Add($"{watch.ResponseStream.Current.Type} {watch.ResponseStream.Current.Service.Generation} {watch.ResponseStream.Current.Service.Spec.Backends.Count}");
        Assert.Equal(["Added 1 1", "Modified 2 2"], events);

        WaitForList(l => l.Contains("10.0.13.2:8080"), agent);
        for (int i = 0; i < 4; i++)
            Get(NetnsTopology.Vip);
        var tooOften = await Refused(ReadOne(api.StreamCounters(new StreamCountersRequest { IntervalMs = 50 }), cancel.Token));
        Assert.Equal(StatusCode.InvalidArgument, tooOften.StatusCode);
        using var counters = api.StreamCounters(new StreamCountersRequest { Service = WebRef, IntervalMs = 100 }, cancellationToken: cancel.Token);
        var snapshots = new List<CountersSnapshot>();
        for (int i = 0; i < 2 && await counters.ResponseStream.MoveNext(cancel.Token); i++)
            snapshots.Add(counters.ResponseStream.Current);
        Assert.Equal(2, snapshots.Count);
        Assert.True(snapshots[1].UnixMs > snapshots[0].UnixMs);
        var service = Assert.Single(snapshots[1].Services);
        Assert.Equal([2UL, 2UL], service.Backends.OrderBy(b => b.Address).Select(b => b.Stats.Conns));

        // An invalid config file is refused, and does not hold back a write over the API.
        File.WriteAllText(configFile, "services: [{address: 10.96.0.11, port: 0}]\n");
        Tmds.Linux.LibC.kill(agent.Pid, Tmds.Linux.LibC.SIGHUP);
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!agent.Log.Contains("config reload refused"))
        {
            Assert.True(DateTime.UtcNow < deadline, agent.Log);
            Thread.Sleep(50);
        }
        await api.PatchBackendsAsync(new PatchBackendsRequest
        {
            Controller = "mesh", Service = WebRef, Changes = { new BackendChange { Drain = new BackendRef { Address = "10.0.13.2", Port = 8080 } } },
        });
        WaitForList(l => l.Contains("10.0.13.2:8080               Masq    0"), agent);
        Assert.Contains("TCP  10.96.0.11:80 rr", List());

        // Open streams (the watch, the counters) do not hold the agent's stop back.
        Assert.Equal(0, agent.Stop());
    }

    [Fact]
    public async Task HundredConcurrentWritersAreAllAppliedNoneLost()
    {
        File.WriteAllText(configFile, Config);
        using var agent = AgentProcess.Start(topology.Lb, topology.AgentArgs(configFile));
        using var channel = XdpLb.Api.UnixSocketChannel.Open(topology.Home.ApiSocket);
        var api = new Controller.ControllerClient(channel);

        await Task.WhenAll(Enumerable.Range(0, 100).Select(async i =>
        {
            var spec = new ServiceSpec { Address = $"10.96.1.{i}", Port = 80, Backends = { new BackendSpec { Address = "10.0.11.2", Port = 8080 } } };
            var applied = await api.ApplyServiceAsync(new ApplyServiceRequest { Controller = $"writer-{i}", Service = spec, ExpectedGeneration = 0 });
            Assert.Equal(1UL, applied.Generation);
        }));

        var listed = (await api.ListServicesAsync(new ListDeclaredServicesRequest())).Services;
        Assert.Equal(Enumerable.Range(0, 100).Select(i => $"writer-{i} 10.96.1.{i}").Order(),
            listed.Where(s => s.Owner != "config").Select(s => $"{s.Owner} {s.Spec.Address}").Order());
        WaitForList(l => l.Split('\n').Count(line => line.StartsWith("TCP  10.96.1.", StringComparison.Ordinal)) == 100, agent);
        Assert.Equal("b1", Get("10.96.1.99"));
        Assert.Equal(0, agent.Stop());
        Assert.Equal(100, System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(topology.Home.StateDir, "api-services.json")))
            .RootElement.GetProperty("Services").GetArrayLength());
    }

    private static async Task<CountersSnapshot> ReadOne(AsyncServerStreamingCall<CountersSnapshot> call, CancellationToken cancel)
    {
        using (call)
        {
            await call.ResponseStream.MoveNext(cancel);
            return call.ResponseStream.Current;
        }
    }

    private static async Task<RpcException> Refused<T>(Task<T> call) => await Assert.ThrowsAsync<RpcException>(() => call);

    private static async Task<RpcException> Refused<T>(AsyncUnaryCall<T> call) => await Assert.ThrowsAsync<RpcException>(() => call.ResponseAsync);

    private string List() => AgentList.List(topology.Home.ApiSocket);

    private string Servers() => AgentList.Servers(topology.Home.ApiSocket);

    private void WaitForList(Func<string, bool> synced, AgentProcess agent) => AgentList.WaitFor(topology.Home.ApiSocket, synced, agent);

    private string Get(string address) => topology.HttpGet(address);

    public void Dispose()
    {
        topology.Dispose();
        File.Delete(configFile);
    }
}
