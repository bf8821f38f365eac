namespace XdpLb.Integration.Tests;

/// <summary>Paths in the checkout these tests run from; built artefacts must exist (make build).</summary>
public static class Repo
{
    public static string Root { get; } = FindRoot();

    public static string Agent => Require(Path.Combine(Root, "bin", "xdplb"), "the agent (make build)");
    public static string XdpPassObject => Require(Path.Combine(Root, "bpf", "build", "xdp_pass.bpf.o"), "the XDP_PASS object (make build)");
    /// <summary>The independent Node client of the Controller API; its npm packages are installed by make build (npm ci).</summary>
    public static string GrpcJsApply
    {
        get
        {
            string folder = Path.Combine(Root, "tests", "grpc-js-client");
            Require(Path.Combine(folder, "node_modules", "@grpc", "grpc-js", "package.json"), "the grpc-js client's npm packages (make build runs npm ci)");
            return Path.Combine(folder, "apply.js");
        }
    }

    /// <summary>examples/XdpLb.ExampleController, built in the configuration of these tests (bin/CONFIGURATION/net10.0).</summary>
    public static string ExampleController => Require(
        Path.Combine(Root, "examples", "XdpLb.ExampleController", "bin", new DirectoryInfo(AppContext.BaseDirectory).Parent!.Name, "net10.0", "XdpLb.ExampleController.dll"),
        "the example controller (make build)");
    public static string TopologyScript => Require(Path.Combine(Root, "tests", "netns", "topology.sh"), "the topology script");

    private static string Require(string path, string what) =>
        File.Exists(path) ? path : throw new InvalidOperationException($"{what} is missing at {path}: run make build first");

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "XdpLb.sln")))
                return dir.FullName;
        throw new InvalidOperationException($"no XdpLb.sln above {AppContext.BaseDirectory}");
    }
}
