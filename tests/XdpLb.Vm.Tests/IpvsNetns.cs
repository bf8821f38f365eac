using System.Runtime.InteropServices;

namespace XdpLb.Vm.Tests;

/// <summary>
/// A network namespace of the test's own (IPVS tables are per namespace) with an IpvsClient
/// whose socket was opened inside it: the socket keeps to that namespace from any thread.
/// </summary>
public sealed partial class IpvsNetns : IDisposable
{
    private static int created;

    [LibraryImport("libc", EntryPoint = "setns", SetLastError = true)]
    private static partial int SetNs(int fd, int nstype);

    public IpvsNetns()
    {
        Name = $"xipvs{Environment.ProcessId % 10000}n{Interlocked.Increment(ref created)}";
        Shell.Check("ip", "netns", "add", Name);
        Shell.Check("ip", "-n", Name, "link", "set", "lo", "up");
        Ipvs.IpvsClient? client = null;
        Exception? failure = null;
        var thread = new Thread(() =>
        {
            try
            {
                using var ns = File.OpenHandle($"/run/netns/{Name}");
                if (SetNs((int)ns.DangerousGetHandle(), 0x40000000) != 0)
                    throw new InvalidOperationException($"setns {Name}: errno {Marshal.GetLastPInvokeError()}");
                client = Ipvs.IpvsClient.Open();
            }
            catch (Exception e)
            {
                failure = e;
            }
        });
        thread.Start();
        thread.Join();
        if (failure is not null)
        {
            Shell.Run("ip", "netns", "del", Name);
            throw failure;
        }
        Client = client!;
    }

    public string Name { get; }
    public Ipvs.IpvsClient Client { get; }

    /// <summary>ipvsadm, run inside the namespace.</summary>
    public string Ipvsadm(params string[] args)
    {
        var r = Shell.Run("ip", new[] { "netns", "exec", Name, "ipvsadm" }.Concat(args), TimeSpan.FromSeconds(60));
        Assert.True(r.ExitCode == 0, $"ipvsadm {string.Join(' ', args)}: {r.Stderr}");
        return r.Stdout;
    }

    public void Dispose()
    {
        Client.Dispose();
        Shell.Run("ip", "netns", "del", Name);
    }
}
