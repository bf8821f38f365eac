using Microsoft.Extensions.Logging;
using XdpLb.Api;
using XdpLb.Core.Logging;
using XdpLb.Core.Model;
using XdpLb.Ipvs;
using XdpLb.Ipvs.Netlink;

namespace XdpLb.Agent;

/// <summary>
/// Forwarding by the kernel's IPVS: the virtual servers xdplb owns, with kube-proxy's
/// strictARP and no socket hooks. On exit the virtual servers stay, unless --detach-on-exit.
/// </summary>
internal sealed class IpvsForwarder : IForwarder
{
    private readonly RunOptions options;
    private readonly IpvsClient client;
    private readonly IpvsSyncHooks syncHooks;
    private readonly ILogger log;

    private IpvsForwarder(RunOptions options, IpvsClient client, IpvsSyncHooks syncHooks, SyncLoop syncLoop, IAgentView view, ILogger log)
    {
        this.options = options;
        this.client = client;
        this.syncHooks = syncHooks;
        SyncLoop = syncLoop;
        View = view;
        this.log = log;
    }

    public SyncLoop SyncLoop { get; }
    public IAgentView View { get; }
    public Action? SampleRates => null;

    /// <param name="xdpFailure">Why XDP could not run, when auto tried it first: named in the error should IPVS not run either.</param>
    public static IpvsForwarder Start(RunOptions options, CompositeStateSource source, LbConfig config, AgentMetrics metrics, ILoggerFactory loggers, string? xdpFailure)
    {
        var log = loggers.CreateLogger<IpvsForwarder>();
        IpvsClient client;
        try
        {
            client = IpvsClient.Open();
            var info = client.GetInfo(); // needs CAP_NET_ADMIN: fails here rather than at the first change
            log.Info("ipvs dataplane", ("version", $"{info.Version >> 16}.{(info.Version >> 8) & 0xff}.{info.Version & 0xff}"),
                ("connection_table", info.ConnectionTableSize));
        }
        catch (NetlinkException e)
        {
            string why = e is NetlinkFamilyNotFoundException ? "the kernel has no IPVS (IP_VS)" : e.Message;
            throw new DataplaneUnavailableException(xdpFailure is null
                ? $"the ipvs dataplane cannot run here: {why}"
                : $"no dataplane can run here: xdp: {xdpFailure}; ipvs: {why}");
        }
        try
        {
            var host = new IpvsHost(new HostCommands());
            if (source.Base is KubernetesStateSource { Settings.StrictArp: true })
                SetStrictArp(host, log);
            // The kernel balances the node's own connections to IPVS services: socket hooks an
            // earlier XDP agent left would send them around it.
            SocketLbHooks.DetachPinned(Path.Combine(options.BpfPinDir, SocketLbHooks.LinkDirectory), loggers.CreateLogger<SocketLbHooks>());
            var dataplane = new IpvsDataplane(client, host, Path.Combine(options.StateDir, RunOptions.IpvsStateFile));
            var syncHooks = new IpvsSyncHooks(dataplane);
            metrics.SetDataplane("ipvs");
            var syncLoop = new SyncLoop(syncHooks, config, source, metrics, () => NodeAddresses.Of(options.Interfaces), loggers.CreateLogger<SyncLoop>());
            log.Info("virtual servers applied", ("services", dataplane.Applied.Count), ("backends", dataplane.Applied.Values.Sum(s => s.Backends.Count)));
            var view = new IpvsAgentView(syncLoop, syncHooks, client, source.Description);
            return new IpvsForwarder(options, client, syncHooks, syncLoop, view, log);
        }
        catch
        {
            client.Dispose();
            throw;
        }
    }

    private static void SetStrictArp(IpvsHost host, ILogger log)
    {
        try
        {
            host.SetStrictArp();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            log.Warn("ipvs.strictARP: the ARP sysctls cannot be written here (a pod's /proc/sys is read-only): " +
                "set net.ipv4.conf.all.arp_ignore=1 and arp_announce=2 on the node", ("error", e.Message));
        }
    }

    public void Stop()
    {
        SyncLoop.LogStats();
        if (options.DetachOnExit)
        {
            log.Info("stopping: removing the virtual servers xdplb owns");
            SyncLoop.Read(() => syncHooks.RemoveAll());
        }
    }

    public void Dispose() => client.Dispose();
}
