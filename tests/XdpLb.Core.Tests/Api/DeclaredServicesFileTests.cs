using Grpc.Core;
using XdpLb.Api.Controller;
using XdpLb.Api.V1;
using static XdpLb.Core.Tests.Api.Requests;

namespace XdpLb.Core.Tests.Api;

public sealed class DeclaredServicesFileTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("xdplb-api-").FullName;
    private string StateFile => Path.Combine(dir, "state", "api-services.json");

    public void Dispose() => Directory.Delete(dir, recursive: true);

    [Fact]
    public void ANewStoreOnTheSameFileHasEveryServiceWithOwnerAndGeneration()
    {
        var first = new DeclaredServices(new DeclaredServicesFile(StateFile));
        first.Apply(Apply("mesh", Spec(backends: ["10.0.2.2"])));
        first.Apply(Apply("mesh", Spec(backends: ["10.0.2.2", "10.0.2.3"])));
        first.Apply(Apply("fleet", Spec("fd00::10", 443, "fd00::2")));
        first.Apply(Apply("fleet", Spec("10.96.0.99")));
        first.Delete(Delete("fleet", Ref("10.96.0.99")));

        var second = new DeclaredServices(new DeclaredServicesFile(StateFile));
        Assert.Equal(first.List(), second.List());
        Assert.Equal(["10.96.0.10 mesh 2", "fd00::10 fleet 1"],
            second.List().Select(s => $"{s.Spec.Address} {s.Owner} {s.Generation}"));
        Assert.Equal(["10.96.0.10", "fd00::10"], second.Declared().Select(s => s.Address!.ToString()));
        Assert.Equal([Path.GetFileName(StateFile)], Directory.GetFiles(Path.GetDirectoryName(StateFile)!).Select(Path.GetFileName));
    }

    [Fact]
    public void AWriteThatCannotBeSavedIsRefusedAndChangesNothing()
    {
        var store = new DeclaredServices(new DeclaredServicesFile(StateFile));
        store.Apply(Apply("mesh", Spec(backends: ["10.0.2.2"])));
        // A directory where the temporary file would go: the save fails.
        Directory.CreateDirectory(StateFile + ".tmp");
        var e = Assert.Throws<RpcException>(() => store.Apply(Apply("mesh", Spec(backends: ["10.0.2.3"]))));
        Assert.Equal(StatusCode.Unavailable, e.StatusCode);
        Assert.Equal("10.0.2.2", store.Get(Ref()).Spec.Backends.Single().Address);
        Assert.Equal("10.0.2.2", new DeclaredServices(new DeclaredServicesFile(StateFile)).Get(Ref()).Spec.Backends.Single().Address);
    }

    [Fact]
    public void AFileThatCannotBeReadStopsTheStoreNamingIt()
    {
        Directory.CreateDirectory(Path.GetDirectoryName(StateFile)!);
        File.WriteAllText(StateFile, "{\"Version\":1,\"Services\":[{\"Owner\":\"mesh\"");
        var e = Assert.Throws<InvalidDataException>(() => new DeclaredServices(new DeclaredServicesFile(StateFile)));
        Assert.Contains(StateFile, e.Message);
    }
}
