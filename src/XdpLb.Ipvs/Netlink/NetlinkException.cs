namespace XdpLb.Ipvs.Netlink;

/// <summary>A netlink request the kernel refused: the operation and the errno it answered.</summary>
public class NetlinkException(string operation, int errno)
    : Exception($"{operation}: {ErrnoName(errno)} ({errno}): {Describe(errno)}")
{
    public string Operation { get; } = operation;
    public int Errno { get; } = errno;

    public static string ErrnoName(int errno) => errno switch
    {
        1 => "EPERM",
        2 => "ENOENT",
        3 => "ESRCH",
        13 => "EACCES",
        17 => "EEXIST",
        22 => "EINVAL",
        34 => "ERANGE",
        93 => "EPROTONOSUPPORT",
        97 => "EAFNOSUPPORT",
        _ => "errno",
    };

    private static string Describe(int errno) => System.Runtime.InteropServices.Marshal.GetPInvokeErrorMessage(errno);
}
