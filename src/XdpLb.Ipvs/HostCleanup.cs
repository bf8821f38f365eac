using XdpLb.Ipvs.Netlink;

namespace XdpLb.Ipvs;

/// <summary>
/// Removals both cleanups make (kube-proxy's leftovers and xdplb's own): a dummy interface,
/// nftables tables, IPVS virtual servers. Each is reported; what is not there is a note.
/// </summary>
public sealed class HostCleanup(HostCommands commands, ICleanupReport report)
{
    /// <summary>IPVS registers it in each network namespace once the module is loaded.</summary>
    private const string IpvsProcFile = "/proc/net/ip_vs";

    public void DeleteInterface(string name)
    {
        if (!Directory.Exists($"/sys/class/net/{name}"))
        {
            report.Note($"no interface {name}");
            return;
        }
        try
        {
            commands.Run("ip", "link", "del", name);
            report.Removed($"interface {name}");
        }
        catch (InvalidOperationException e)
        {
            report.Failed($"interface {name}", e.Message);
        }
    }

    public void DeleteNftTables(params (string Family, string Name)[] tables)
    {
        string? nft = commands.Find("nft");
        if (nft is null)
        {
            report.Note("nft is not installed: no nftables tables looked at");
            return;
        }
        string listed;
        try
        {
            listed = commands.Run(nft, "list", "tables");
        }
        catch (InvalidOperationException e) when (NoKernelSupport(e))
        {
            report.Note("the kernel has no nftables: no tables looked at");
            return;
        }
        catch (InvalidOperationException e)
        {
            report.Failed("nftables tables (listing them)", e.Message);
            return;
        }
        var present = listed.Split('\n', StringSplitOptions.TrimEntries).ToHashSet();
        foreach (var (family, name) in tables)
        {
            string what = $"nftables table {family} {name}";
            if (!present.Contains($"table {family} {name}"))
            {
                report.Note($"no {what}");
                continue;
            }
            try
            {
                commands.Run(nft, "delete", "table", family, name);
                report.Removed(what);
            }
            catch (InvalidOperationException e)
            {
                report.Failed(what, e.Message);
            }
        }
    }

    /// <summary>Deletes every virtual server but the spared ones (kept and reported as such).</summary>
    public void DeleteVirtualServersExcept(IReadOnlyCollection<IpvsService> spared, string why) =>
        WithIpvs(client =>
        {
            IReadOnlyList<IpvsService> services;
            try
            {
                services = client.GetServices();
            }
            catch (NetlinkException e)
            {
                report.Failed("IPVS virtual servers (listing them)", e.Message);
                return;
            }
            if (services.Count == 0)
                report.Note("no IPVS virtual servers");
            foreach (var s in services)
            {
                if (spared.Any(o => SameKey(o, s)))
                    report.Kept($"IPVS virtual server {s}", why);
                else
                    Delete(client, s);
            }
        });

    /// <summary>Deletes these virtual servers (those not there are a note).</summary>
    public bool DeleteVirtualServers(IReadOnlyCollection<IpvsService> services)
    {
        if (services.Count == 0)
            return true;
        bool deleted = true;
        WithIpvs(client =>
        {
            foreach (var s in services)
                deleted &= Delete(client, s);
        });
        return deleted;
    }

    private void WithIpvs(Action<IpvsClient> action)
    {
        if (!File.Exists(IpvsProcFile))
        {
            report.Note("IPVS is not loaded: no virtual servers");
            return;
        }
        IpvsClient client;
        try
        {
            client = IpvsClient.Open();
        }
        catch (NetlinkException e)
        {
            report.Failed("IPVS virtual servers (opening IPVS's netlink family)", e.Message);
            return;
        }
        using (client)
            action(client);
    }

    private bool Delete(IpvsClient client, IpvsService s)
    {
        try
        {
            client.DeleteService(s);
            report.Removed($"IPVS virtual server {s}");
        }
        catch (NetlinkException e) when (e.Errno == 3 /* ESRCH */)
        {
            report.Note($"no IPVS virtual server {s}");
        }
        catch (NetlinkException e)
        {
            report.Failed($"IPVS virtual server {s}", e.Message);
            return false;
        }
        return true;
    }

    private static bool SameKey(IpvsService a, IpvsService b) => a.Protocol == b.Protocol && a.Port == b.Port && a.Address.Equals(b.Address);

    /// <summary>A netfilter tool run on a kernel without that part of netfilter (EPROTONOSUPPORT).</summary>
    internal static bool NoKernelSupport(InvalidOperationException e) => e.Message.Contains("Protocol not supported", StringComparison.Ordinal);
}
