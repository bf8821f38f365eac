using Grpc.Core;
using XdpLb.Api.Controller;
using XdpLb.Api.V1;
using XdpLb.Core.Model;
using static XdpLb.Core.Tests.Api.Requests;
using CoreService = XdpLb.Core.Model.Service;
using CoreBackend = XdpLb.Core.Model.Backend;

namespace XdpLb.Core.Tests.Api;

public class DeclaredServicesTests
{
    private readonly DeclaredServices store = new(file: null);

    private static StatusCode Refused(Action write, out string message)
    {
        var e = Assert.Throws<RpcException>(write);
        message = e.Status.Detail;
        return e.StatusCode;
    }

    private static CoreService ConfigService(string address, ushort port = 80) => new()
    {
        Address = System.Net.IPAddress.Parse(address), Port = port,
        Backends = [new CoreBackend(System.Net.IPAddress.Parse("10.0.2.2"), 8080)],
    };

    [Fact]
    public void ApplyCreatesAtGeneration1OwnedByTheControllerAndEachChangeAddsOne()
    {
        var created = store.Apply(Apply("mesh", Spec(backends: ["10.0.2.2"])));
        Assert.Equal(("mesh", 1UL), (created.Owner, created.Generation));
        var replaced = store.Apply(Apply("mesh", Spec(backends: ["10.0.2.2", "10.0.2.3"])));
        Assert.Equal(2UL, replaced.Generation);
        Assert.Equal(["10.0.2.2", "10.0.2.3"], store.Get(Ref()).Spec.Backends.Select(b => b.Address));
        var same = store.Apply(Apply("mesh", Spec(backends: ["10.0.2.2", "10.0.2.3"])));
        Assert.Equal(2UL, same.Generation);
    }

    [Fact]
    public void ApplyFillsTheConfigFilesDefaults()
    {
        var spec = new ServiceSpec { Address = "10.96.0.10", Port = 53, Protocol = "udp", Backends = { new BackendSpec { Address = "10.0.2.2" } } };
        var got = store.Apply(Apply("mesh", spec)).Spec;
        Assert.Equal(("rr", "nat", 53u, 1u), (got.Scheduler, got.Forwarding, got.Backends[0].Port, got.Backends[0].Weight));
        Assert.Equal("udp", store.Declared().Single().Protocol.ToString().ToLowerInvariant());
    }

    [Fact]
    public void AStaleExpectedGenerationIsFAILEDPRECONDITIONAndChangesNothing()
    {
        store.Apply(Apply("mesh", Spec(backends: ["10.0.2.2"]), expected: 0));
        store.Apply(Apply("mesh", Spec(backends: ["10.0.2.3"]), expected: 1));
        Assert.Equal(StatusCode.FailedPrecondition, Refused(() => store.Apply(Apply("mesh", Spec(backends: ["10.0.2.4"]), expected: 1)), out var message));
        Assert.Contains("expected generation 1, but it is at 2", message);
        Assert.Equal(StatusCode.FailedPrecondition, Refused(() => store.Delete(Delete("mesh", Ref(), expected: 1)), out _));
        Assert.Equal(StatusCode.FailedPrecondition, Refused(() => store.Apply(Apply("mesh", Spec("10.96.0.11"), expected: 3)), out _));
        var now = store.Get(Ref());
        Assert.Equal((2UL, "10.0.2.3"), (now.Generation, now.Spec.Backends.Single().Address));
        Assert.Single(store.List());
    }

    [Fact]
    public void AnotherOwnersServiceIsPERMISSIONDENIEDNamingTheOwner()
    {
        store.Apply(Apply("mesh", Spec(backends: ["10.0.2.2"])));
        Assert.Equal(StatusCode.PermissionDenied, Refused(() => store.Apply(Apply("fleet", Spec(backends: ["10.0.2.9"]))), out var message));
        Assert.Contains("owned by \"mesh\"", message);
        Assert.Equal(StatusCode.PermissionDenied, Refused(() => store.Delete(Delete("fleet", Ref())), out _));
        Assert.Equal(StatusCode.PermissionDenied,
            Refused(() => store.Patch(Patch("fleet", Ref(), new BackendChange { Drain = Backend("10.0.2.2") })), out _));
        var now = store.Get(Ref());
        Assert.Equal(("mesh", 1UL, 1u), (now.Owner, now.Generation, now.Spec.Backends.Single().Weight));
    }

    [Fact]
    public void TheSourcesServicesAreListedWithTheirOwnerAndReadOnly()
    {
        store.SetSource(DeclaredServices.ConfigOwner, [ConfigService("10.96.0.10")], out var conflicts);
        Assert.Empty(conflicts);
        var listed = Assert.Single(store.List());
        Assert.Equal(("config", 1UL), (listed.Owner, listed.Generation));

        Assert.Equal(StatusCode.AlreadyExists, Refused(() => store.Apply(Apply("mesh", Spec(backends: ["10.0.2.3"]))), out var message));
        Assert.Contains("\"config\"", message);
        Assert.Equal(StatusCode.PermissionDenied, Refused(() => store.Delete(Delete("mesh", Ref())), out message));
        Assert.Contains("\"config\"", message);
        Assert.Equal(StatusCode.PermissionDenied,
            Refused(() => store.Patch(Patch("mesh", Ref(), new BackendChange { Drain = Backend("10.0.2.2") })), out _));
        Assert.Empty(store.Declared());
    }

    [Fact]
    public void ASourceServiceOnAKeyTheAPIHoldsIsLeftOutAndReported()
    {
        store.Apply(Apply("mesh", Spec(backends: ["10.0.2.2"])));
        var kept = store.SetSource(DeclaredServices.KubernetesOwner, [ConfigService("10.96.0.10"), ConfigService("10.96.0.20")], out var conflicts);
        Assert.Equal(["10.96.0.20"], kept.Select(s => s.Address!.ToString()));
        Assert.Contains("\"mesh\"", Assert.Single(conflicts));
        Assert.Equal(["mesh", "kubernetes"], store.List().Select(s => s.Owner));
    }

    [Fact]
    public void ASourceServiceThatChangesGetsANewGeneration()
    {
        store.SetSource("config", [ConfigService("10.96.0.10")], out _);
        store.SetSource("config", [ConfigService("10.96.0.10")], out _);
        Assert.Equal(1UL, store.Get(Ref()).Generation);
        store.SetSource("config", [ConfigService("10.96.0.10") with { Scheduler = Scheduler.Wrr }], out _);
        Assert.Equal(2UL, store.Get(Ref()).Generation);
        store.SetSource("config", [], out _);
        Assert.Equal(StatusCode.NotFound, Refused(() => store.Get(Ref()), out _));
    }

    [Theory]
    [InlineData("")]
    [InlineData("config")]
    [InlineData("kubernetes")]
    public void TheControllerNameIsRequiredAndNotASources(string controller)
    {
        Assert.Equal(StatusCode.InvalidArgument, Refused(() => store.Apply(Apply(controller, Spec())), out var message));
        Assert.StartsWith("controller:", message);
        Assert.Empty(store.List());
    }

    [Fact]
    public void LimitsAreRESOURCEEXHAUSTEDCountingTheSourcesServices()
    {
        store.Limits = new StoreLimits(Services: 2, Backends: 3, BackendsPerService: 2);
        store.SetSource("config", [ConfigService("10.96.0.1")], out _);
        store.Apply(Apply("mesh", Spec("10.96.0.2", backends: ["10.0.2.2"])));
        Assert.Equal(StatusCode.ResourceExhausted, Refused(() => store.Apply(Apply("mesh", Spec("10.96.0.3"))), out var message));
        Assert.Contains("limits.services 2", message);
        Assert.Equal(StatusCode.ResourceExhausted,
            Refused(() => store.Apply(Apply("mesh", Spec("10.96.0.2", backends: ["10.0.2.2", "10.0.2.3", "10.0.2.4"]))), out message));
        Assert.Contains("more than the 2", message);
        store.Limits = store.Limits with { BackendsPerService = 10 };
        Assert.Equal(StatusCode.ResourceExhausted,
            Refused(() => store.Apply(Apply("mesh", Spec("10.96.0.2", backends: ["10.0.2.2", "10.0.2.3", "10.0.2.4"]))), out message));
        Assert.Contains("limits.backends 3", message);
        Assert.Single(store.Get(Ref("10.96.0.2")).Spec.Backends);
    }

    [Fact]
    public void TheDataplanesRefusalsAreINVALIDARGUMENT()
    {
        store.DataplaneChecks = s => s.Protocol == Protocol.Sctp ? ["protocol: \"sctp\" is not supported by the XDP dataplane yet"] : [];
        var spec = Spec();
        spec.Protocol = "sctp";
        Assert.Equal(StatusCode.InvalidArgument, Refused(() => store.Apply(Apply("mesh", spec)), out var message));
        Assert.Contains("sctp", message);
        Assert.Empty(store.List());
    }

    [Fact]
    public void PatchAddsRemovesReweightsAndDrainsInOrder()
    {
        store.Apply(Apply("mesh", Spec(backends: ["10.0.2.2", "10.0.2.3"])));
        var patched = store.Patch(Patch("mesh", Ref(),
            new BackendChange { Add = new BackendSpec { Address = "10.0.2.4", Port = 8080, Weight = 5 } },
            new BackendChange { Remove = Backend("10.0.2.2") },
            new BackendChange { SetWeight = new BackendWeight { Backend = Backend("10.0.2.3"), Weight = 3 } },
            new BackendChange { Drain = Backend("10.0.2.4") }));
        Assert.Equal(2UL, patched.Generation);
        Assert.Equal(["10.0.2.3/3", "10.0.2.4/0"], patched.Spec.Backends.Select(b => $"{b.Address}/{b.Weight}"));
    }

    [Fact]
    public void APatchIsAllOrNothing()
    {
        store.Apply(Apply("mesh", Spec(backends: ["10.0.2.2"])));
        Assert.Equal(StatusCode.NotFound, Refused(() => store.Patch(Patch("mesh", Ref(),
            new BackendChange { Drain = Backend("10.0.2.2") },
            new BackendChange { Remove = Backend("10.0.2.9") })), out var message));
        Assert.Contains("changes[1].remove", message);
        Assert.Equal(StatusCode.AlreadyExists, Refused(() => store.Patch(Patch("mesh", Ref(),
            new BackendChange { Add = new BackendSpec { Address = "10.0.2.2", Port = 8080 } })), out _));
        Assert.Equal(StatusCode.InvalidArgument, Refused(() => store.Patch(Patch("mesh", Ref(),
            new BackendChange { Drain = Backend("10.0.2.2") },
            new BackendChange { Add = new BackendSpec { Address = "fd00::2", Port = 8080 } })), out message));
        Assert.Contains("IPv6", message);
        Assert.Equal(StatusCode.InvalidArgument, Refused(() => store.Patch(Patch("mesh", Ref())), out _));
        var now = store.Get(Ref());
        Assert.Equal((1UL, 1u), (now.Generation, now.Spec.Backends.Single().Weight));
    }

    [Fact]
    public void DeleteRemovesAndAMissingServiceIsNOTFOUND()
    {
        store.Apply(Apply("mesh", Spec()));
        store.Delete(Delete("mesh", Ref(), expected: 1));
        Assert.Empty(store.List());
        Assert.Equal(StatusCode.NotFound, Refused(() => store.Delete(Delete("mesh", Ref())), out _));
        Assert.Equal(StatusCode.NotFound, Refused(() => store.Get(Ref()), out _));
    }

    [Fact]
    public void ChangedIsRaisedForAcceptedWritesOnly()
    {
        int changes = 0;
        store.Changed += () => changes++;
        store.Apply(Apply("mesh", Spec()));
        store.Apply(Apply("mesh", Spec()));
        Assert.Throws<RpcException>(() => store.Apply(Apply("fleet", Spec())));
        Assert.Throws<RpcException>(() => store.Apply(Apply("mesh", Spec(address: "10.96.0.300"))));
        store.Delete(Delete("mesh", Ref()));
        Assert.Equal(2, changes);
    }

    [Fact]
    public void WatchGivesTheServicesNowThenEachChangeInOrder()
    {
        store.SetSource("config", [ConfigService("10.96.0.1")], out _);
        using var watch = store.Watch();
        store.Apply(Apply("mesh", Spec(backends: ["10.0.2.2"])));
        store.Patch(Patch("mesh", Ref(), new BackendChange { Drain = Backend("10.0.2.2") }));
        Assert.Throws<RpcException>(() => store.Apply(Apply("mesh", Spec(), expected: 7)));
        store.Delete(Delete("mesh", Ref()));
        store.SetSource("config", [], out _);
        var events = new List<string>();
        while (watch.Events.TryRead(out var e))
            events.Add($"{e.Type} {e.Service.Spec.Address} {e.Service.Owner} {e.Service.Generation}");
        Assert.Equal([
            "Added 10.96.0.1 config 1", "Added 10.96.0.10 mesh 1", "Modified 10.96.0.10 mesh 2",
            "Deleted 10.96.0.10 mesh 2", "Deleted 10.96.0.1 config 1"], events);
    }

    [Fact]
    public async Task ConcurrentWritersOnDifferentServicesAreAllApplied()
    {
        await Task.WhenAll(Enumerable.Range(0, 100).Select(i => Task.Run(() =>
            store.Apply(Apply($"writer-{i}", Spec($"10.96.1.{i}", backends: ["10.0.2.2"]))))));
        var listed = store.List();
        Assert.Equal(100, listed.Count);
        Assert.Equal(Enumerable.Range(0, 100).Select(i => $"writer-{i}").Order(), listed.Select(s => s.Owner).Order());
    }
}
