using System.Runtime.InteropServices;
using Tmds.Linux;
using static Tmds.Linux.LibC;

namespace XdpLb.Ipvs.Netlink;

/// <summary>An AF_NETLINK socket of one protocol (NETLINK_GENERIC for IPVS), closed on dispose.</summary>
internal sealed unsafe class NetlinkSocket : SafeHandle
{
    public const int NetlinkGeneric = 16;

    [StructLayout(LayoutKind.Sequential)]
    private struct SockaddrNl
    {
        public ushort Family;
        public ushort Pad;
        public uint Pid;
        public uint Groups;
    }

    private NetlinkSocket() : base(-1, ownsHandle: true)
    {
    }

    public override bool IsInvalid => handle == -1;

    private int Fd => (int)handle;

    public static NetlinkSocket Open(int protocol)
    {
        int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, protocol);
        if (fd < 0)
            throw new NetlinkException($"opening a netlink socket (protocol {protocol})", Marshal.GetLastPInvokeError());
        var s = new NetlinkSocket();
        s.SetHandle(fd);
        var address = new SockaddrNl { Family = (ushort)AF_NETLINK };
        if (bind(fd, (sockaddr*)&address, (socklen_t)sizeof(SockaddrNl)) != 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            s.Dispose();
            throw new NetlinkException("binding a netlink socket", errno);
        }
        // Dumps of thousands of services come in many datagrams; a larger buffer keeps the
        // kernel from waiting on us between them.
        int size = 1 << 20;
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(int));
        return s;
    }

    public void Send(ReadOnlySpan<byte> message, string operation)
    {
        fixed (byte* p = message)
        {
            var address = new SockaddrNl { Family = (ushort)AF_NETLINK };
            ssize_t sent = sendto(Fd, p, (size_t)message.Length, 0, (sockaddr*)&address, (socklen_t)sizeof(SockaddrNl));
            if ((long)sent != message.Length)
                throw new NetlinkException(operation + " (send)", Marshal.GetLastPInvokeError());
        }
    }

    /// <summary>One datagram (possibly several netlink messages) into <paramref name="buffer"/>.</summary>
    public int Receive(Span<byte> buffer, string operation)
    {
        while (true)
        {
            fixed (byte* p = buffer)
            {
                ssize_t n = recv(Fd, p, (size_t)buffer.Length, 0);
                if ((long)n >= 0)
                    return (int)(long)n;
            }
            int errno = Marshal.GetLastPInvokeError();
            if (errno != EINTR)
                throw new NetlinkException(operation + " (receive)", errno);
        }
    }

    protected override bool ReleaseHandle() => close((int)handle) == 0;
}
