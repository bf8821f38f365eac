using System.Diagnostics;

namespace XdpLb.Bpf.Tests;

/// <summary>
/// A network namespace of the test's own with one veth (v0, peer v1) carrying the given
/// addresses, for BPF_PROG_TEST_RUN runs whose FIB lookups must see real routes. Removed
/// on dispose.
/// </summary>
public sealed class ScratchNetns : IDisposable
{
    private static int created;

    public ScratchNetns(string tag, int mtu = 1500, params string[] addresses)
    {
        Name = $"x{tag}{Environment.ProcessId % 10000}n{Interlocked.Increment(ref created)}";
        Run("ip", "netns", "add", Name);
        try
        {
            Run("ip", "-n", Name, "link", "add", "v0", "type", "veth", "peer", "name", "v1");
            Run("ip", "-n", Name, "link", "set", "v0", "mtu", mtu.ToString(), "up");
            Run("ip", "-n", Name, "link", "set", "v1", "up");
            foreach (var a in addresses)
                Run("ip", "-n", Name, "addr", "add", a, "dev", "v0", "nodad");
            Run("ip", "netns", "exec", Name, "sysctl", "-qw", "net.ipv4.ip_forward=1", "net.ipv6.conf.all.forwarding=1");
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public string Name { get; }

    /// <summary>BPF_PROG_TEST_RUN inside the namespace, as if the frame came in on v0.</summary>
    public TestRunResult TestRun(BpfProgram program, byte[] frame) =>
        NetnsThread.Run(Name, () => program.TestRun(frame, ingressIfindex: (uint)XdpLink.InterfaceIndex("v0")));

    public static void Run(string file, params string[] args)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardError = true };
        foreach (var a in args)
            psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        string err = p.StandardError.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0)
            throw new InvalidOperationException($"{file} {string.Join(' ', args)}: {err}");
    }

    public void Dispose()
    {
        var psi = new ProcessStartInfo("ip", ["netns", "del", Name]) { RedirectStandardError = true };
        using var p = Process.Start(psi)!;
        p.WaitForExit();
    }
}
