using Microsoft.Extensions.Logging;
using XdpLb.Bpf;
using XdpLb.Core.Logging;

namespace XdpLb.Agent;

/// <summary>
/// The XDP links of the served interfaces, pinned under --bpf-pin-dir/links so that XDP keeps
/// serving while no agent runs. Attached all or none: a start that fails leaves no interface
/// half-served.
/// </summary>
internal sealed class XdpLinkSet : IDisposable
{
    private readonly List<XdpLink> links = [];
    private readonly ILogger log;

    private XdpLinkSet(ILogger log) => this.log = log;

    public IReadOnlyList<XdpLink> Links => links;

    /// <summary>Attaches (or adopts) a link per interface; when one fails, those attached before go again and the failure is thrown.</summary>
    public static XdpLinkSet AttachAll(IReadOnlyList<string> interfaces, Func<string, XdpLink> attach, ILogger log)
    {
        var set = new XdpLinkSet(log);
        try
        {
            foreach (var name in interfaces)
                set.links.Add(attach(name));
        }
        catch
        {
            set.RollBack();
            set.Dispose();
            throw;
        }
        return set;
    }

    /// <summary>
    /// Detaches what this run attached, after a later step of the start failed. Links adopted
    /// from an earlier agent stay: they served before this run and serve on.
    /// </summary>
    public void RollBack()
    {
        foreach (var link in links.Where(l => l.Mode is not null))
        {
            link.Detach();
            log.Info("xdp detached: the start failed", ("interface", link.Interface));
        }
    }

    /// <summary>--detach-on-exit.</summary>
    public void DetachAll()
    {
        foreach (var link in links)
            link.Detach();
    }

    /// <summary>Pinned links of interfaces no longer given: an earlier agent served them, this one does not.</summary>
    public static void DetachStale(string linkDir, IReadOnlyList<string> interfaces, ILogger log)
    {
        foreach (var stale in Directory.GetFiles(linkDir).Where(f => !interfaces.Contains(Path.GetFileName(f))))
        {
            PinnedLink.Detach(stale);
            log.Info("xdp detached from an interface no longer served", ("interface", Path.GetFileName(stale)));
        }
    }

    public void Dispose()
    {
        foreach (var link in links)
            link.Dispose();
    }
}
