namespace XdpLb.Integration.Tests;

/// <summary>
/// The host-wide places of one test's agent: a BPF filesystem of its own for --bpf-pin-dir
/// (mounted in the host's mount namespace, so that pins outlive `ip netns exec` and the
/// agent) and a --state-dir. Unmounted and removed on dispose.
/// </summary>
public sealed class AgentHome : IDisposable
{
    public AgentHome()
    {
        Root = Directory.CreateTempSubdirectory("xdplb-test-").FullName;
        PinDir = Path.Combine(Root, "bpf");
        StateDir = Path.Combine(Root, "state");
        Directory.CreateDirectory(PinDir);
        Directory.CreateDirectory(StateDir);
        Shell.Check("mount", "-t", "bpf", "bpf", PinDir);
    }

    public string Root { get; }
    public string PinDir { get; }
    public string StateDir { get; }

    public string ApiSocket => Path.Combine(Root, "xdplb.sock");

    public string[] Flags => ["--bpf-pin-dir", PinDir, "--state-dir", StateDir, "--api-socket", ApiSocket];

    public void Dispose()
    {
        Shell.Run("umount", "-l", PinDir);
        Directory.Delete(Root, recursive: true);
    }
}
