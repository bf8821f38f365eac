using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace XdpLb.FakeKubeApi;

/// <summary>
/// Creates the server's listening socket, optionally inside a named network namespace. A socket
/// belongs to the namespace it was created in for its whole life, so only its creation has to
/// happen there: on a fresh thread that enters the namespace and then ends, so no thread the
/// runtime reuses is ever left in it.
/// </summary>
internal static partial class ListeningSocket
{
    private const int CloneNewNet = 0x40000000;

    [LibraryImport("libc", EntryPoint = "setns", SetLastError = true)]
    private static partial int SetNs(SafeFileHandle fd, int nstype);

    public static Socket Create(IPEndPoint endpoint, string? netns)
    {
        if (netns is null)
            return Listen(endpoint);

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
                socket = Listen(endpoint);
            }
            catch (Exception e)
            {
                failure = e;
            }
        }) { Name = $"fake-kube-api bind in {netns}", IsBackground = true };
        thread.Start();
        thread.Join();
        if (failure is not null)
            throw new InvalidOperationException($"listening in netns {netns}: {failure.Message}", failure);
        return socket!;
    }

    /// <summary>
    /// The socket's descriptor, for Kestrel's ListenHandle to own and close: the socket object
    /// lets go of it, so it neither closes it nor may be used any more.
    /// </summary>
    public static ulong HandOver(Socket socket)
    {
        ulong descriptor = (ulong)socket.Handle;
        socket.SafeHandle.SetHandleAsInvalid();
        return descriptor;
    }

    private static Socket Listen(IPEndPoint endpoint)
    {
        var socket = new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            socket.Bind(endpoint);
            socket.Listen(128);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}
