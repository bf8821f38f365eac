using System.Diagnostics;

namespace XdpLb.Bench;

/// <summary>
/// A node of the bench's own for one agent at a time: a network namespace with a veth pair
/// (v0 up at 10.0.0.1/24, the interface served; lo up, where the fake API server listens) and
/// a private BPF filesystem for --bpf-pin-dir, mounted in the host's mount namespace so that
/// it can be unmounted whatever the agent left in it. All of it goes on dispose.
/// </summary>
internal sealed class ScratchNode : IDisposable
{
    public const string Address = "10.0.0.1";

    public ScratchNode(string name)
    {
        Netns = name;
        Root = Directory.CreateTempSubdirectory("xdplb-bench-").FullName;
        Directory.CreateDirectory(PinDir);
        try
        {
            Check("mount", "-t", "bpf", "bpf", PinDir);
            Check("ip", "netns", "add", Netns);
            Check("ip", "-n", Netns, "link", "set", "lo", "up");
            Check("ip", "-n", Netns, "link", "add", "v0", "type", "veth", "peer", "name", "v1");
            Check("ip", "-n", Netns, "addr", "add", Address + "/24", "dev", "v0");
            Check("ip", "-n", Netns, "link", "set", "v0", "up");
            Check("ip", "-n", Netns, "link", "set", "v1", "up");
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public string Netns { get; }
    public string Root { get; }
    public string PinDir => Path.Combine(Root, "bpf");
    public string StateDir => Path.Combine(Root, "state");
    public string ApiSocket => Path.Combine(Root, "xdplb.sock");

    /// <summary>`xdplb run` flags for this node: serve v0, pins and state here, XDP detached on exit.</summary>
    public string[] AgentFlags => ["--interface", "v0", "--bpf-pin-dir", PinDir, "--state-dir", StateDir,
        "--api-socket", ApiSocket, "--detach-on-exit"];

    /// <summary>A file in this node's directory (removed with it).</summary>
    public string File(string name) => Path.Combine(Root, name);

    public void Dispose()
    {
        // The namespace first: its veth takes the XDP link with it; then the pins go.
        Run("ip", "netns", "del", Netns);
        Run("umount", "-l", PinDir);
        Directory.Delete(Root, recursive: true);
    }

    private static void Check(string file, params string[] args)
    {
        var (code, err) = Run(file, args);
        if (code != 0)
            throw new InvalidOperationException($"{file} {string.Join(' ', args)} exited {code}: {err}");
    }

    private static (int Code, string Stderr) Run(string file, params string[] args)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardError = true };
        foreach (var a in args)
            psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        string err = p.StandardError.ReadToEnd();
        p.WaitForExit();
        return (p.ExitCode, err.Trim());
    }
}
