using System.Text.Json;
using XdpLb.Bpf;
using XdpLb.Ipvs;

namespace XdpLb.Agent;

/// <summary>
/// What xdplb leaves on a node after its agents: XDP links and maps pinned under
/// --bpf-pin-dir (the links keep XDP attached), the IPVS dataplane's virtual servers, dummy
/// interface and nftables table, the state files of --state-dir, a killed agent's socket.
/// Only the pins xdplb makes (links/, maps/) are removed, never anything else in the directory.
/// </summary>
internal sealed class XdplbStateCleanup(string pinDir, string stateDir, string apiSocket, ICleanupReport report)
{
    public void Remove()
    {
        DetachLinks();
        RemovePinDirectory();
        bool ipvsGone = RemoveIpvs();
        RemoveStateFiles(ipvsGone);
        if (File.Exists(apiSocket))
            Delete(apiSocket, $"API socket {apiSocket} (no agent answers on it)");
    }

    private void DetachLinks()
    {
        DetachPins(Path.Combine(pinDir, SocketLbHooks.LinkDirectory), "socket hook", "detached from its cgroup", absentNote: null);
        DetachPins(Path.Combine(pinDir, "links"), "XDP link of", "detached", absentNote: "no pinned XDP links in");
    }

    // Each link pinned in the directory, detached now (not when the kernel frees it), then the directory.
    private void DetachPins(string links, string what, string how, string? absentNote)
    {
        if (!Directory.Exists(links))
        {
            if (absentNote is not null)
                report.Note($"{absentNote} {links}");
            return;
        }
        foreach (var pin in Directory.GetFiles(links).Order(StringComparer.Ordinal))
        {
            try
            {
                PinnedLink.Detach(pin);
                report.Removed($"{what} {Path.GetFileName(pin)} ({how}; pinned at {pin})");
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                report.Failed($"{what} {Path.GetFileName(pin)} pinned at {pin}", e.Message);
            }
        }
        DeleteDirectory(links);
    }

    private void RemovePinDirectory()
    {
        string maps = Path.Combine(pinDir, "maps");
        if (Directory.Exists(maps))
        {
            foreach (var pin in Directory.GetFiles(maps).Order(StringComparer.Ordinal))
                Delete(pin, $"pinned map {Path.GetFileName(pin)} ({pin})");
            DeleteDirectory(maps);
        }
        else
            report.Note($"no pinned maps in {maps}");
        if (!Directory.Exists(pinDir))
            return;
        var others = Directory.GetFileSystemEntries(pinDir);
        if (others.Length > 0)
            report.Kept(pinDir, $"holds what xdplb did not pin: {string.Join(", ", others.Select(Path.GetFileName))}");
        else if (IsMountPoint(pinDir))
            report.Kept(pinDir, "a BPF filesystem's mount point (emptied)");
        else
            DeleteDirectory(pinDir);
    }

    /// <summary>The virtual servers of the state file, and IpvsHost's interface and table; false when a server stays.</summary>
    private bool RemoveIpvs()
    {
        string stateFile = Path.Combine(stateDir, RunOptions.IpvsStateFile);
        var host = new HostCleanup(new HostCommands(), report);
        bool gone;
        try
        {
            gone = host.DeleteVirtualServers(IpvsDataplane.OwnedVirtualServers(stateFile));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException or InvalidDataException)
        {
            report.Failed($"the IPVS virtual servers listed in {stateFile} (unreadable)", e.Message);
            gone = false;
        }
        host.DeleteInterface(IpvsHost.DefaultInterface);
        host.DeleteNftTables(("inet", IpvsHost.NftTable));
        return gone;
    }

    private void RemoveStateFiles(bool ipvsGone)
    {
        foreach (var name in new[] { RunOptions.XdpStateFile, RunOptions.IpvsStateFile })
        {
            string path = Path.Combine(stateDir, name);
            if (name == RunOptions.IpvsStateFile && !ipvsGone)
            {
                if (File.Exists(path))
                    report.Kept(path, "lists the virtual servers that could not be removed");
                continue;
            }
            foreach (var file in new[] { path, path + ".tmp" }.Where(File.Exists))
                Delete(file, $"state file {file}");
        }
    }

    private void Delete(string path, string what)
    {
        try
        {
            File.Delete(path);
            report.Removed(what);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            report.Failed(what, e.Message);
        }
    }

    private void DeleteDirectory(string path)
    {
        try
        {
            Directory.Delete(path);
            report.Removed($"directory {path}");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            report.Failed($"directory {path}", e.Message);
        }
    }

    private static bool IsMountPoint(string path) =>
        File.ReadLines("/proc/self/mountinfo").Any(l => l.Split(' ') is { Length: > 4 } f && f[4].Replace("\\040", " ") == path);
}
