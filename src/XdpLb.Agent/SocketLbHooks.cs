using Microsoft.Extensions.Logging;
using XdpLb.Core.Logging;
using XdpLb.Bpf;
using XdpLb.Core.Model;

namespace XdpLb.Agent;

/// <summary>
/// The XDP dataplane's socket hooks (README, "Traffic that starts on the node"): attached at
/// --cgroup-root, pinned under --bpf-pin-dir/cgroup-links so that they keep balancing while
/// no agent runs, and taken over by the next agent without a gap.
/// </summary>
internal sealed class SocketLbHooks : IDisposable
{
    public const string LinkDirectory = "cgroup-links";
    public const string Off = "none";

    private const string AutoRoot = "/sys/fs/cgroup";

    /// <summary>
    /// The cgroup v2 directory to attach at: DIR itself, or on a hybrid host (systemd's
    /// cgroup v1 layout) its "unified" child, so that --cgroup-root can name the host's
    /// /sys/fs/cgroup whatever its layout. Null when neither is cgroup v2.
    /// </summary>
    public static string? Resolve(string directory) =>
        CgroupLink.IsCgroup2(directory) ? directory
        : CgroupLink.IsCgroup2(Path.Combine(directory, "unified")) ? Path.Combine(directory, "unified")
        : null;

    private readonly List<CgroupLink> links;
    private readonly ILogger log;

    private SocketLbHooks(SockLbProgram program, string cgroupRoot, List<CgroupLink> links, ILogger log)
    {
        this.log = log;
        Program = program;
        CgroupRoot = cgroupRoot;
        this.links = links;
    }

    public SockLbProgram Program { get; }
    public string CgroupRoot { get; }

    /// <summary>An explicit --cgroup-root must be a cgroup v2 directory: checked before anything loads.</summary>
    public static void CheckOption(string? cgroupRoot)
    {
        if (cgroupRoot is null or Off || Resolve(cgroupRoot) is not null)
            return;
        throw new UsageException($"--cgroup-root {cgroupRoot} is not a directory of a cgroup v2 filesystem, nor has one named unified " +
            "(mount -t cgroup2 none DIR, or give --cgroup-root none to balance no traffic that starts on the node)");
    }

    /// <summary>
    /// Loads and attaches the hooks, or returns null when they are off or cannot run here
    /// (logged: the node's XDP path serves on without them). Hooks an earlier agent left
    /// where none are wanted now are detached.
    /// </summary>
    public static SocketLbHooks? Start(RunOptions options, XdpLbProgram xdp, XdpDataplane dataplane, Limits limits, ILogger log)
    {
        string linkDir = Path.Combine(options.BpfPinDir, LinkDirectory);
        string? root = options.CgroupRoot is Off ? null : Resolve(options.CgroupRoot ?? AutoRoot);
        if (root is null)
        {
            DetachPinned(linkDir, log);
            log.Info("socket-level load balancing off: connections that start on the node or in its pods are not balanced",
                ("reason", options.CgroupRoot is Off ? "--cgroup-root none" : $"no cgroup v2 mounted at {AutoRoot} or {AutoRoot}/unified"));
            return null;
        }
        SockLbProgram program;
        try
        {
            program = Load(xdp, limits, options.BpfPinDir, log);
        }
        catch (BpfException e)
        {
            DetachPinned(linkDir, log);
            Unavailable(e, log);
            return null;
        }
        Directory.CreateDirectory(linkDir);
        var links = new List<CgroupLink>();
        int adopted = 0;
        try
        {
            foreach (var ((name, attachType), prog) in SockLbProgram.Hooks.Zip(program.Programs))
            {
                links.Add(CgroupLink.AttachPinned(prog, attachType, root, Path.Combine(linkDir, name), out bool wasAdopted));
                adopted += wasAdopted ? 1 : 0;
            }
        }
        catch (Exception e) when (e is BpfException or IOException or UnauthorizedAccessException)
        {
            // Half the hooks would translate connects whose replies nothing turns back: none or all.
            foreach (var link in Enumerable.Reverse(links))
                link.Detach();
            DetachPinned(linkDir, log);
            program.Dispose();
            Unavailable(e, log);
            return null;
        }
        foreach (var stale in Directory.GetFiles(linkDir).Where(f => !SockLbProgram.Hooks.Any(h => h.Program == Path.GetFileName(f))))
        {
            PinnedLink.Detach(stale);
            log.Info("socket hook detached: this build has no such hook", ("pin", stale));
        }
        dataplane.BackendIdReused += id => program.BackendTraffic.Clear(id);
        log.Info("socket-level load balancing attached", ("cgroup", root), ("hooks", links.Count), ("adopted", adopted));
        return new SocketLbHooks(program, root, links, log);
    }

    private static void Unavailable(Exception e, ILogger log) =>
        log.Warn("socket-level load balancing unavailable: connections that start on the node or in its pods are not balanced", ("error", e.Message));

    /// <summary>
    /// The hooks' object. Its pinned maps hold only what sockets remember (translations, the
    /// way back, counters): maps of another build are replaced, not refused as the XDP
    /// object's would be, at the price of those sockets' memory.
    /// </summary>
    private static SockLbProgram Load(XdpLbProgram xdp, Limits limits, string pinDir, ILogger log)
    {
        try
        {
            return SockLbProgram.Load(xdp, limits, pinDir);
        }
        catch (PinnedMapsMismatchException e)
        {
            log.Warn("the socket hooks' pinned maps are another build's: replaced. Sockets connected before keep their backend " +
                "but show it to getpeername, and their lc counts are not given back", ("error", e.InnerException?.Message));
            foreach (var name in SockLbProgram.PinnedMaps)
                File.Delete(Path.Combine(pinDir, "maps", name));
            return SockLbProgram.Load(xdp, limits, pinDir);
        }
    }

    /// <summary>Removes hooks an earlier agent pinned: with --cgroup-root none, on the IPVS dataplane (the kernel balances local traffic there), and by cleanup.</summary>
    public static void DetachPinned(string linkDir, ILogger log)
    {
        if (!Directory.Exists(linkDir))
            return;
        foreach (var pin in Directory.GetFiles(linkDir))
        {
            PinnedLink.Detach(pin);
            log.Info("socket hook detached", ("pin", pin));
        }
        Directory.Delete(linkDir);
    }

    // Translation stops first: nothing is translated that the remaining hooks do not turn back.
    public void Detach()
    {
        foreach (var link in Enumerable.Reverse(links))
            link.Detach();
        log.Info("socket-level load balancing detached", ("cgroup", CgroupRoot));
    }

    public void Dispose()
    {
        foreach (var link in links)
            link.Dispose();
        Program.Dispose();
    }
}
