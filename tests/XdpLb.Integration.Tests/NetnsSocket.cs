using System.Net.Sockets;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace XdpLb.Integration.Tests;

/// <summary>
/// A TCP socket of a network namespace the test made, for a client in the test process: a
/// socket stays in the namespace it was created in, so only its creation happens there, on a
/// fresh thread that enters the namespace and ends (no pooled thread is ever left in it).
/// </summary>
internal static partial class NetnsSocket
{
    private const int CloneNewNet = 0x40000000;

    [LibraryImport("libc", EntryPoint = "setns", SetLastError = true)]
    private static partial int SetNs(SafeFileHandle fd, int nstype);

    public static Socket CreateTcp(string netns, AddressFamily family)
    {
        Socket? socket = null;
        Exception? failure = null;
        var thread = new Thread(() =>
        {
            try
            {
                using (var handle = File.OpenHandle($"/run/netns/{netns}"))
                {
                    if (SetNs(handle, CloneNewNet) != 0)
                        throw new InvalidOperationException($"setns into {netns}: errno {Marshal.GetLastPInvokeError()}");
                }
                socket = new Socket(family, SocketType.Stream, ProtocolType.Tcp);
            }
            catch (Exception e)
            {
                failure = e;
            }
        });
        thread.Start();
        thread.Join();
        return socket ?? throw new InvalidOperationException($"a socket in netns {netns}: {failure?.Message}", failure);
    }
}
