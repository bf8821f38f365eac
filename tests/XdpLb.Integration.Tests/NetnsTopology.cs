namespace XdpLb.Integration.Tests;

/// <summary>
/// The client / lb / three-backend topology of tests/netns/topology.sh, under a prefix of
/// its own so runs never collide; removed on dispose, also when the test failed.
/// </summary>
public sealed class NetnsTopology : IDisposable
{
    public const string Vip = "10.96.0.10";
    public static readonly string[] BackendAddresses = ["10.0.11.2", "10.0.12.2", "10.0.13.2"];
    public static readonly string[] LbInterfaces = ["lbc", "lb1", "lb2", "lb3"];

    public NetnsTopology()
    {
        Shell.RequirePrerequisites();
        Prefix = "x" + Convert.ToHexString(BitConverter.GetBytes(Random.Shared.Next())).ToLowerInvariant()[..5];
        try
        {
            Shell.Check(Repo.TopologyScript, "up", Prefix, Repo.XdpPassObject);
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public string Prefix { get; }

    /// <summary>Pin and state directories for the agent of this topology.</summary>
    public AgentHome Home { get; } = new();

    /// <summary>`xdplb run` arguments for the lb namespace: the config, every lb interface, this topology's home.</summary>
    public string[] AgentArgs(string configFile, params string[] extra) =>
        ["run", "--config", configFile, .. LbInterfaces.SelectMany(i => new[] { "--interface", i }), .. Home.Flags, .. extra];
    public string Client => Prefix + "cl";
    public string Lb => Prefix + "lb";

    /// <summary>The directory backend N (1..3) serves over HTTP.</summary>
    public string WwwDir(int backend) => $"/tmp/xdplb-topology-{Prefix}/b{backend}";

    public static string UdpEcho => Path.Combine(Repo.Root, "tests", "netns", "build", "udp_echo");

    /// <summary>Sends one UDP datagram of the given length from the client; returns the answer ("bN LENGTH").</summary>
    public string UdpExchange(string address, int port, int length)
    {
        var r = Exec(Client, UdpEcho, "send", address, port.ToString(), length.ToString());
        if (r.ExitCode != 0)
            throw new InvalidOperationException($"udp_echo send {address} {port} {length} exited {r.ExitCode}: {r.Stderr}");
        return r.Stdout.Trim();
    }

    /// <summary>One HTTP request from the client on a new connection; returns the backend that answered ("bN").</summary>
    public string HttpGet(string address)
    {
        var r = Exec(Client, "curl", "-sS", "--max-time", "5", "-H", "Connection: close", $"http://{address}/");
        if (r.ExitCode != 0)
            throw new InvalidOperationException($"curl http://{address}/ exited {r.ExitCode}: {r.Stderr}");
        return r.Stdout.Trim();
    }

    /// <summary>Starts a command in the client's namespace and returns at once (its output redirected).</summary>
    public System.Diagnostics.Process StartInClient(params string[] command)
    {
        var psi = new System.Diagnostics.ProcessStartInfo("ip") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "netns", "exec", Client }.Concat(command))
            psi.ArgumentList.Add(a);
        return System.Diagnostics.Process.Start(psi)!;
    }

    /// <summary>Runs a command inside one of the topology's namespaces.</summary>
    public ShellResult Exec(string netns, params string[] command) =>
        Shell.Run("ip", new[] { "netns", "exec", netns }.Concat(command), TimeSpan.FromSeconds(120));

    public void Dispose()
    {
        // Namespaces first: their interfaces take the XDP links with them; then the pins go.
        Shell.Run(Repo.TopologyScript, "down", Prefix);
        Home.Dispose();
    }
}
