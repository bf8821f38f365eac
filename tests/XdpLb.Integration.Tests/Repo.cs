namespace XdpLb.Integration.Tests;

/// <summary>Paths in the checkout these tests run from; built artefacts must exist (make build).</summary>
public static class Repo
{
    public static string Root { get; } = FindRoot();

    public static string Agent => Require(Path.Combine(Root, "bin", "xdplb"), "the agent (make build)");
    public static string XdpPassObject => Require(Path.Combine(Root, "bpf", "build", "xdp_pass.bpf.o"), "the XDP_PASS object (make build)");
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
