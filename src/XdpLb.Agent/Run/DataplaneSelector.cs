using System.Runtime.ExceptionServices;
using Microsoft.Extensions.Logging;
using XdpLb.Bpf;
using XdpLb.Core.Logging;
using static Tmds.Linux.LibC;

namespace XdpLb.Agent;

/// <summary>
/// --dataplane: auto tries native XDP, then generic XDP per interface, then the kernel's
/// IPVS, logging each failure with its reason; an explicit choice is that dataplane or an error.
/// </summary>
internal sealed class DataplaneSelector(RunOptions options, AgentMetrics metrics, ILoggerFactory loggers)
{
    private readonly ILogger log = loggers.CreateLogger<DataplaneSelector>();

    public IForwarder Start(CompositeStateSource source)
    {
        var config = source.Load(options.Dataplane == DataplaneChoice.Ipvs ? "ipvs" : "xdp");
        if (options.Dataplane == DataplaneChoice.Ipvs)
            return IpvsForwarder.Start(options, source, config, metrics, loggers, xdpFailure: null);
        try
        {
            return XdpForwarder.Start(options, source, config, metrics, loggers, AttachLink);
        }
        catch (XdpUnavailableException e) when (options.Dataplane == DataplaneChoice.Auto)
        {
            log.Warn("xdp dataplane unavailable, trying ipvs", ("reason", e.Message));
            return IpvsForwarder.Start(options, source, source.Load("ipvs"), metrics, loggers, xdpFailure: e.Message);
        }
        catch (XdpUnavailableException e)
        {
            ExceptionDispatchInfo.Throw(e.Cause);
            throw;
        }
    }

    /// <summary>
    /// Only "XDP cannot run here" switches dataplanes: no permission, or a kernel or driver
    /// without XDP. Another program on the interface, or an interface that is not there, is
    /// the operator's to settle.
    /// </summary>
    public static bool XdpCannotRun(BpfException e) => XdpUnsupported.Contains(e.Errno);

    private static readonly int[] XdpUnsupported = [EPERM, EINVAL, EOPNOTSUPP, ENOTSUPP];

    /// <summary>The kernel's own "not supported" (include/linux/errno.h), which libc does not name: drivers without XDP return it.</summary>
    private const int ENOTSUPP = 524;

    private XdpLink AttachLink(BpfProgram program, string name, string pinPath)
    {
        var link = AttachInMode(program, name, pinPath, out bool adopted);
        if (adopted)
            log.Info("xdp link adopted", ("interface", name), ("ifindex", link.Ifindex));
        else
            log.Info("xdp attached", ("interface", name), ("ifindex", link.Ifindex), ("mode", link.Mode?.ToString().ToLowerInvariant()));
        return link;
    }

    private XdpLink AttachInMode(BpfProgram program, string name, string pinPath, out bool adopted)
    {
        if (options.Dataplane == DataplaneChoice.XdpGeneric)
            return XdpLink.AttachPinned(program, name, XdpMode.Generic, pinPath, out adopted);
        if (options.Dataplane == DataplaneChoice.Xdp)
            return XdpLink.AttachPinned(program, name, XdpMode.Native, pinPath, out adopted);
        try
        {
            return XdpLink.AttachPinned(program, name, XdpMode.Native, pinPath, out adopted);
        }
        // Busy: another program is there, and generic would not help.
        catch (BpfException e) when (e.Errno != EBUSY && e.Errno != EEXIST)
        {
            log.Warn("native xdp failed, trying generic", ("interface", name), ("reason", e.Message));
            return XdpLink.AttachPinned(program, name, XdpMode.Generic, pinPath, out adopted);
        }
    }
}
