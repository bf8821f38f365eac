using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using XdpLb.Api;
using XdpLb.Bpf;
using XdpLb.Core.Logging;
using XdpLb.Core.Model;

namespace XdpLb.Agent;

/// <summary>
/// Forwarding by XDP: the program loaded (adopting the maps and links an earlier agent pinned),
/// the maps filled, XDP attached to every served interface, and the socket hooks. On exit XDP
/// stays attached with the maps pinned, unless --detach-on-exit.
/// </summary>
internal sealed class XdpForwarder : IForwarder
{
    private readonly RunOptions options;
    private readonly XdpLbProgram program;
    private readonly XdpLinkSet links;
    private readonly SocketLbHooks? hooks;
    private readonly AgentView view;
    private readonly ILogger log;

    private XdpForwarder(RunOptions options, XdpLbProgram program, SyncLoop syncLoop, XdpLinkSet links, SocketLbHooks? hooks, AgentView view, ILogger log)
    {
        this.options = options;
        this.program = program;
        SyncLoop = syncLoop;
        this.links = links;
        this.hooks = hooks;
        this.view = view;
        this.log = log;
    }

    public SyncLoop SyncLoop { get; }
    public IAgentView View => view;
    public Action? SampleRates => view.SampleRates;

    /// <summary>Throws <see cref="XdpUnavailableException"/> when XDP cannot run on this node; anything else as it is.</summary>
    public static XdpForwarder Start(RunOptions options, CompositeStateSource source, LbConfig config, AgentMetrics metrics, ILoggerFactory loggers,
        Func<BpfProgram, string, string, XdpLink> attach)
    {
        var log = loggers.CreateLogger<XdpForwarder>();
        string stateFile = Path.Combine(options.StateDir, RunOptions.XdpStateFile);
        XdpLbProgram program;
        try
        {
            program = XdpLbProgram.Load(config.Limits, options.BpfPinDir);
        }
        catch (BpfException e)
        {
            throw new XdpUnavailableException(e);
        }
        XdpLinkSet? links = null;
        SocketLbHooks? hooks = null;
        try
        {
            var dataplane = new XdpDataplane(program);
            Adopt(program, dataplane, stateFile, options.BpfPinDir, log);
            if (program.Legacy is { } legacy)
                log.Info("upgrading the connection table of the previous layout", ("connections", legacy.CopyInto(program)));
            SetTunnelSources(dataplane, options.Interfaces, log);
            var syncHooks = new XdpSyncHooks(program, dataplane, stateFile, loggers.CreateLogger<XdpSyncHooks>());
            metrics.SetDataplane("xdp");
            var syncLoop = new SyncLoop(syncHooks, config, source, metrics, () => NodeAddresses.Of(options.Interfaces), loggers.CreateLogger<SyncLoop>());
            log.Info("maps filled", ("services", config.Services.Count), ("backends", config.Services.Sum(s => s.Backends.Count)));

            string linkDir = Path.Combine(options.BpfPinDir, "links");
            Directory.CreateDirectory(linkDir);
            try
            {
                links = XdpLinkSet.AttachAll(options.Interfaces, name => attach(program.Ingress, name, Path.Combine(linkDir, name)), log);
            }
            catch (BpfException e) when (DataplaneSelector.XdpCannotRun(e))
            {
                throw new XdpUnavailableException(e);
            }
            XdpLinkSet.DetachStale(linkDir, options.Interfaces, log);
            try
            {
                hooks = SocketLbHooks.Start(options, program, dataplane, config.Limits, loggers.CreateLogger<SocketLbHooks>());
            }
            catch
            {
                links.RollBack();
                throw;
            }

            // The old program runs no more: what it opened or ended since the copy follows.
            if (program.Legacy is { } upgraded)
                log.Info("connection table upgraded; the previous layout's maps are unpinned", ("opened_during_switch", upgraded.CatchUp(program)));

            var attachments = links.Links.Select(l => new Api.V1.Attachment { Interface = l.Interface, Mode = l.Mode?.ToString().ToLowerInvariant() ?? "adopted" }).ToList();
            var view = new AgentView(syncLoop, program, dataplane, () => attachments, source.Description, hooks?.Program);
            metrics.Attach(syncLoop, program, dataplane);
            return new XdpForwarder(options, program, syncLoop, links, hooks, view, log);
        }
        catch
        {
            links?.Dispose();
            hooks?.Dispose();
            program.Dispose();
            throw;
        }
    }

    public void Stop()
    {
        log.Info(options.DetachOnExit ? "stopping: detaching xdp" : "stopping: xdp stays attached, maps stay pinned");
        SyncLoop.LogStats();
        if (options.DetachOnExit)
        {
            links.DetachAll();
            hooks?.Detach();
        }
    }

    public void Dispose()
    {
        links.Dispose();
        hooks?.Dispose();
        program.Dispose();
    }

    /// <summary>
    /// When the maps were pinned by an earlier agent, takes over its ids and list orders
    /// from the state it saved; without that state, the services are written anew (the
    /// connections in the table keep flowing, since they carry their own rewrite).
    /// </summary>
    private static void Adopt(XdpLbProgram program, XdpDataplane dataplane, string stateFile, string pinDir, ILogger log)
    {
        if (!program.Adopted)
            return;
        var state = XdpDataplaneState.TryLoad(stateFile, out string? problem);
        if (state is null)
        {
            log.Warn("pinned maps adopted without the state that goes with them: services are rewritten; " +
                "connection counts may be off until the connections open now have ended", ("bpf_pin_dir", pinDir), ("reason", problem));
            dataplane.ClearServices();
            return;
        }
        dataplane.ImportState(state);
        log.Info("adopted the pinned maps and the state of the previous agent", ("bpf_pin_dir", pinDir),
            ("services", state.Services.Length), ("connections", program.LiveConnections()));
    }

    // Tunnelled packets leave from the source of the route to the backend, as IPVS's; where
    // the FIB gives none, from the node's address on the first served interface of the family.
    private static void SetTunnelSources(XdpDataplane dataplane, IReadOnlyList<string> interfaces, ILogger log)
    {
        var addresses = NodeAddresses.Of(interfaces);
        var v4 = addresses.FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork);
        var v6 = addresses.FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetworkV6 && !a.IsIPv6LinkLocal);
        dataplane.SetTunnelSources(v4, v6);
        log.Info("tunnel sources", ("ipv4", v4), ("ipv6", v6));
    }
}
