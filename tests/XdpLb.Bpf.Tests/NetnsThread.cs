using System.Runtime.InteropServices;

namespace XdpLb.Bpf.Tests;

/// <summary>
/// Runs code on a thread moved into a network namespace the test made, so that
/// BPF_PROG_TEST_RUN's FIB lookups see that namespace's routes and interfaces. The thread
/// ends afterwards: it never returns to a pool in another namespace.
/// </summary>
public static partial class NetnsThread
{
    private const int CloneNewNet = 0x40000000;

    [LibraryImport("libc", EntryPoint = "setns", SetLastError = true)]
    private static partial int SetNs(int fd, int nstype);

    public static T Run<T>(string netns, Func<T> work)
    {
        T result = default!;
        Exception? failure = null;
        var thread = new Thread(() =>
        {
            try
            {
                using var ns = File.OpenHandle($"/run/netns/{netns}");
                if (SetNs((int)ns.DangerousGetHandle(), CloneNewNet) != 0)
                    throw new InvalidOperationException($"setns into {netns}: errno {Marshal.GetLastPInvokeError()}");
                result = work();
            }
            catch (Exception e)
            {
                failure = e;
            }
        });
        thread.Start();
        thread.Join();
        if (failure is not null)
            throw new InvalidOperationException($"in netns {netns}: {failure.Message}", failure);
        return result;
    }
}
