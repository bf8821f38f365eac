using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using XdpLb.Core.Logging;
using System.Runtime.InteropServices;
using XdpLb.Bpf;
using XdpLb.Core.Config;
using XdpLb.Core.Model;
using XdpLb.Ipvs;
using XdpLb.Ipvs.Netlink;

namespace XdpLb.Agent;

/// <summary>
/// `xdplb run`: choose the dataplane (--dataplane auto: native XDP, then generic XDP, then
/// the kernel's IPVS, each failure logged with its reason), fill it from the config file,
/// and serve until SIGINT/SIGTERM. The file is re-read when it changes and on SIGHUP.
/// XDP: the maps and links an earlier agent pinned are adopted, and on exit XDP stays
/// attached with the maps pinned, unless --detach-on-exit. IPVS: the virtual servers stay.
/// </summary>
internal static class RunCommand
{
    private static ILogger log = NullLogger.Instance;
    private static ILoggerFactory loggers = NullLoggerFactory.Instance;

    public static int Run(RunOptions options, ILoggerFactory loggerFactory)
    {
        loggers = loggerFactory;
        log = loggers.CreateLogger(typeof(RunCommand));
        if (options.Dataplane != DataplaneChoice.Ipvs && !BpfFilesystem.Contains(options.BpfPinDir, out string probed))
            throw new UsageException($"--bpf-pin-dir {options.BpfPinDir} is not on a BPF filesystem ({probed} is not bpffs): " +
                "mount one first (mount -t bpf bpf /sys/fs/bpf), so that maps and links outlive the agent");
        if (options.Dataplane != DataplaneChoice.Ipvs)
            SocketLbHooks.CheckOption(options.CgroupRoot);
        var metrics = new AgentMetrics();
        // The API's services are read before the first sync, so that a restart never withdraws one.
        var declared = OpenDeclared(options);
        using var source = new CompositeStateSource(OpenSource(ref options, metrics), declared, loggers.CreateLogger<CompositeStateSource>());
        var config = source.Load(options.Dataplane == DataplaneChoice.Ipvs ? "ipvs" : "xdp");
        if (options.Dataplane == DataplaneChoice.Ipvs)
            return RunIpvs(options, source, config, metrics, xdpFailure: null);
        try
        {
            return RunXdp(options, source, config, metrics);
        }
        catch (XdpUnavailableException e) when (options.Dataplane == DataplaneChoice.Auto)
        {
            log.Warn("xdp dataplane unavailable, trying ipvs", ("reason", e.Message));
            return RunIpvs(options, source, source.Load("ipvs"), metrics, xdpFailure: e.Message);
        }
        catch (XdpUnavailableException e)
        {
            throw e.Cause;
        }
    }

    /// <summary>Loading or attaching XDP failed: in auto mode, IPVS is tried next.</summary>
    private sealed class XdpUnavailableException(Exception cause) : Exception(Brief(cause.Message), cause)
    {
        public Exception Cause { get; } = cause;

        // The error's first line and libbpf's last word on it; the whole log is for the xdp choice.
        private static string Brief(string message)
        {
            var lines = message.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            return lines.Length <= 1 ? message : $"{lines[0]} ({lines.Where(l => !l.StartsWith("libbpf: failed to load", StringComparison.Ordinal)).Last()})";
        }
    }

    /// <summary>The services declared over the API, as the last agent left them in --state-dir.</summary>
    private static Api.Controller.DeclaredServices OpenDeclared(RunOptions options)
    {
        var file = new Api.Controller.DeclaredServicesFile(Path.Combine(options.StateDir, RunOptions.ApiStateFile));
        try
        {
            var declared = new Api.Controller.DeclaredServices(file);
            int count = declared.Declared().Count;
            if (count > 0)
                log.Info("services declared over the API restored", ("services", count), ("file", file.Path));
            return declared;
        }
        catch (InvalidDataException e)
        {
            throw new ConfigException(file.Path, [e.Message]);
        }
    }

    /// <summary>The config file, or the Kubernetes watches (synced once; --interface defaults to the Node's interfaces).</summary>
    private static IDesiredStateSource OpenSource(ref RunOptions options, AgentMetrics metrics)
    {
        if (!options.Kubernetes)
            return new FileStateSource(options.ConfigFile!);
        var settings = KubernetesSettings(options);
        var node = options.ConfigFile is null ? new LbConfig() : ReadNodeConfig(options.ConfigFile);
        var interfaces = options.Interfaces;
        var source = KubernetesStateSource.Start(options, settings, node, metrics.KubeProxy, () => NodeAddresses(interfaces), loggers.CreateLogger<KubernetesStateSource>(), CancellationToken.None);
        if (interfaces.Count == 0)
        {
            interfaces = source.NodeInterfaces();
            if (interfaces.Count == 0)
            {
                source.Dispose();
                throw new UsageException("no --interface given and no interface holds the Node's InternalIP/ExternalIP addresses: give --interface IF");
            }
            log.Info("kubernetes: serving the interfaces that hold the Node's addresses", ("interfaces", string.Join(",", interfaces)));
            options = options with { Interfaces = interfaces };
        }
        return source;
    }

    /// <summary>
    /// With --kubernetes, --config gives what Kubernetes does not: the map sizes (limits) and
    /// masq's port range. Services come from the cluster, timeouts and sync periods from the
    /// kube-proxy config: in this file they are an error rather than silently ignored.
    /// </summary>
    private static LbConfig ReadNodeConfig(string path)
    {
        var config = ReadConfig(path);
        var defaults = new LbConfig();
        var errors = new List<string>();
        if (config.Services.Count > 0)
            errors.Add("services: with --kubernetes the services come from the cluster; this file may hold limits and masq only");
        if (config.Timeouts != defaults.Timeouts || config.Sync != defaults.Sync)
            errors.Add("timeouts, sync: with --kubernetes they come from the kube-proxy config (--kube-proxy-config: ipvs.tcpTimeout, ipvs.syncPeriod, ...)");
        if (config.ClusterCidrs.Count > 0)
            errors.Add("clusterCidrs: with --kubernetes it is the kube-proxy config's clusterCIDR");
        if (errors.Count > 0)
            throw new ConfigException(path, errors);
        return config;
    }

    /// <summary>--kube-proxy-config FILE (a KubeProxyConfiguration), else kube-proxy's defaults.</summary>
    private static XdpLb.Kubernetes.ProxySettings KubernetesSettings(RunOptions options)
    {
        if (options.KubeProxyConfig is null)
            return new XdpLb.Kubernetes.ProxySettings();
        var settings = XdpLb.Kubernetes.KubeProxyConfigFile.Load(options.KubeProxyConfig);
        foreach (var warning in settings.Warnings)
            log.Warn("kube-proxy config", ("file", options.KubeProxyConfig), ("note", warning));
        return settings;
    }

    private static int RunXdp(RunOptions options, CompositeStateSource source, LbConfig config, AgentMetrics metrics)
    {
        string stateFile = Path.Combine(options.StateDir, RunOptions.XdpStateFile);
        XdpLbProgram program;
        try
        {
            program = XdpLbProgram.Load(config.Limits, options.BpfPinDir);
        }
        catch (Exception e) when (e is BpfException && options.Dataplane == DataplaneChoice.Auto && e is not PinnedMapsMismatchException)
        {
            throw new XdpUnavailableException(e);
        }
        using var _ = program;
        var dataplane = new XdpDataplane(program);
        Adopt(program, dataplane, stateFile, options.BpfPinDir);
        if (program.Legacy is { } legacy)
            log.Info("upgrading the connection table of the previous layout", ("connections", legacy.CopyInto(program)));
        SetTunnelSources(dataplane, options.Interfaces);
        var runtime = new XdpRuntime(program, dataplane, stateFile, loggers.CreateLogger<XdpRuntime>());
        metrics.SetDataplane("xdp");
        using var running = new RunningDataplane(runtime, config, source, metrics, () => NodeAddresses(options.Interfaces), loggers.CreateLogger<RunningDataplane>());
        log.Info("maps filled", ("services", config.Services.Count), ("backends", config.Services.Sum(s => s.Backends.Count)));

        var links = new List<XdpLink>();
        SocketLbHooks? hooks = null;
        // IPVS expires connections by per-connection timers; here a sweep each second does.
        using var expiry = new Timer(_ => running.Sweep(), null, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1));
        try
        {
            string linkDir = Path.Combine(options.BpfPinDir, "links");
            Directory.CreateDirectory(linkDir);
            // A start that fails leaves no interface half-served: what this run attached
            // goes again (links adopted from an earlier agent keep serving).
            void DetachThisRunsLinks()
            {
                foreach (var link in links.Where(l => l.Mode is not null))
                {
                    link.Detach();
                    log.Info("xdp detached: the start failed", ("interface", link.Interface));
                }
            }
            try
            {
                foreach (var name in options.Interfaces)
                    links.Add(Attach(program.Ingress, name, options.Dataplane, Path.Combine(linkDir, name)));
            }
            catch (Exception e)
            {
                DetachThisRunsLinks();
                // Only "XDP cannot run here" switches dataplanes; another program on the
                // interface, or an interface that is not there, is the operator's to settle.
                if (e is BpfException { Errno: 1 or 22 or 95 or 524 } && options.Dataplane == DataplaneChoice.Auto)
                    throw new XdpUnavailableException(e);
                throw;
            }
            foreach (var stale in Directory.GetFiles(linkDir).Where(f => !options.Interfaces.Contains(Path.GetFileName(f))))
            {
                PinnedLink.Detach(stale);
                log.Info("xdp detached from an interface no longer served", ("interface", Path.GetFileName(stale)));
            }

            try
            {
                hooks = SocketLbHooks.Start(options, program, dataplane, config.Limits, loggers.CreateLogger<SocketLbHooks>());
            }
            catch
            {
                DetachThisRunsLinks();
                throw;
            }

            // The old program runs no more: what it opened or ended since the copy follows.
            if (program.Legacy is { } upgraded)
                log.Info("connection table upgraded; the previous layout's maps are unpinned", ("opened_during_switch", upgraded.CatchUp(program)));

            var attachments = links.Select(l => new Api.V1.Attachment { Interface = l.Interface, Mode = l.Mode?.ToString().ToLowerInvariant() ?? "adopted" }).ToList();
            var view = new AgentView(running, program, dataplane, () => attachments, source.Description, hooks?.Program);
            metrics.Attach(running, program, dataplane);
            Serve(options, source, running, view, metrics, view.SampleRates);
            log.Info(options.DetachOnExit ? "stopping: detaching xdp" : "stopping: xdp stays attached, maps stay pinned");
            using (var sweepsDone = new ManualResetEvent(false))
            {
                // Waits for a sweep in progress: the maps go away with the program.
                if (expiry.Dispose(sweepsDone))
                    sweepsDone.WaitOne();
            }
            running.LogStats();
            if (options.DetachOnExit)
            {
                foreach (var link in links)
                    link.Detach();
                hooks?.Detach();
            }
        }
        finally
        {
            foreach (var link in links)
                link.Dispose();
            hooks?.Dispose();
        }
        log.Info("stopped");
        return 0;
    }

    private static int RunIpvs(RunOptions options, CompositeStateSource source, LbConfig config, AgentMetrics metrics, string? xdpFailure)
    {
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
        using var _ = client;
        var host = new IpvsHost(new HostCommands());
        if (source.Base is KubernetesStateSource { Settings.StrictArp: true })
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
        // The kernel balances the node's own connections to IPVS services: socket hooks an
        // earlier XDP agent left would send them around it.
        SocketLbHooks.DetachPinned(Path.Combine(options.BpfPinDir, SocketLbHooks.LinkDirectory), loggers.CreateLogger<SocketLbHooks>());
        var dataplane = new IpvsDataplane(client, host, Path.Combine(options.StateDir, RunOptions.IpvsStateFile));
        var runtime = new IpvsRuntime(dataplane);
        metrics.SetDataplane("ipvs");
        using var running = new RunningDataplane(runtime, config, source, metrics, () => NodeAddresses(options.Interfaces), loggers.CreateLogger<RunningDataplane>());
        log.Info("virtual servers applied", ("services", dataplane.Applied.Count), ("backends", dataplane.Applied.Values.Sum(s => s.Backends.Count)));
        var view = new IpvsAgentView(running, runtime, client, source.Description);
        Serve(options, source, running, view, metrics, sampleRates: null);
        running.LogStats();
        if (options.DetachOnExit)
        {
            log.Info("stopping: removing the virtual servers xdplb owns");
            running.Read(() => runtime.RemoveAll());
        }
        log.Info("stopped");
        return 0;
    }

    /// <summary>The API, metrics, signals and the source's watch around a running dataplane, until SIGINT/SIGTERM.</summary>
    private static void Serve(RunOptions options, CompositeStateSource source, RunningDataplane running, Api.IAgentView view, AgentMetrics metrics, Action? sampleRates)
    {
        using var stop = new ManualResetEventSlim();
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, ctx => { ctx.Cancel = true; stop.Set(); });
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, ctx => { ctx.Cancel = true; stop.Set(); });
        using var sighup = PosixSignalRegistration.Create(PosixSignal.SIGHUP, ctx =>
        {
            ctx.Cancel = true;
            log.Info("SIGHUP: reloading the config", ("config", source.Description));
            running.RequestReload();
        });
        source.Watch(running.RequestReload);
        running.Start();
        // IPVS's estimator works on 2 s samples; so do the rates here.
        using var rates = sampleRates is null ? null : new Timer(_ => sampleRates(), null, TimeSpan.Zero, TimeSpan.FromSeconds(2));
        var host = AgentHost.StartAsync(options.ApiSocket, options.ApiTcp, options.MetricsAddress, view, source.Declared, metrics,
            healthy: () => running.LastSyncSucceeded, ready: () => true, loggers).GetAwaiter().GetResult();
        // Parsing a large config leaves a large heap behind; give it back before serving.
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        log.Info("ready", ("dataplane", metrics.Dataplane), ("config", source.Description), ("interfaces", string.Join(",", options.Interfaces)),
            ("bpf_pin_dir", options.BpfPinDir), ("api_socket", options.ApiSocket), ("api_listen", options.ApiTcp?.Endpoint.ToString() ?? "none"), ("metrics", options.MetricsAddress));
        stop.Wait();
        host.DisposeAsync().AsTask().GetAwaiter().GetResult();
        if (rates is not null)
        {
            using var ratesDone = new ManualResetEvent(false);
            if (rates.Dispose(ratesDone))
                ratesDone.WaitOne();
        }
    }

    /// <summary>
    /// When the maps were pinned by an earlier agent, takes over its ids and list orders
    /// from the state it saved; without that state, the services are written anew (the
    /// connections in the table keep flowing, since they carry their own rewrite).
    /// </summary>
    private static void Adopt(XdpLbProgram program, XdpDataplane dataplane, string stateFile, string pinDir)
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

    /// <summary>The served interfaces' addresses (IPv6 link-local left out), in --interface order.</summary>
    internal static IReadOnlyList<System.Net.IPAddress> NodeAddresses(IReadOnlyList<string> interfaces) =>
        System.Net.NetworkInformation.NetworkInterface.GetAllNetworkInterfaces()
            .Where(i => interfaces.Contains(i.Name))
            .OrderBy(i => interfaces.ToList().IndexOf(i.Name))
            .SelectMany(i => i.GetIPProperties().UnicastAddresses.Select(u => u.Address))
            .Where(a => !a.IsIPv6LinkLocal)
            .ToList();

    // Tunnelled packets leave from the source of the route to the backend, as IPVS's; where
    // the FIB gives none, from the node's address on the first served interface of the family.
    private static void SetTunnelSources(XdpDataplane dataplane, IReadOnlyList<string> interfaces)
    {
        var addresses = NodeAddresses(interfaces);
        var v4 = addresses.FirstOrDefault(a => a.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork);
        var v6 = addresses.FirstOrDefault(a => a.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 && !a.IsIPv6LinkLocal);
        dataplane.SetTunnelSources(v4, v6);
        log.Info("tunnel sources", ("ipv4", v4), ("ipv6", v6));
    }

    internal static LbConfig ReadConfig(string path, bool checkXdpSupport = true)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ConfigException(path, [$"cannot read the config file: {e.Message}"]);
        }
        var config = ConfigParser.Parse(text, path);
        var unsupported = checkXdpSupport ? XdpDataplaneSupport.Unsupported(config) : [];
        if (unsupported.Count > 0)
            throw new ConfigException(path, unsupported);
        return config;
    }

    private static XdpLink Attach(BpfProgram program, string name, DataplaneChoice choice, string pinPath)
    {
        var link = AttachLink(program, name, choice, pinPath, out bool adopted);
        if (adopted)
            log.Info("xdp link adopted", ("interface", name), ("ifindex", link.Ifindex));
        else
            log.Info("xdp attached", ("interface", name), ("ifindex", link.Ifindex), ("mode", link.Mode?.ToString().ToLowerInvariant()));
        return link;
    }

    private static XdpLink AttachLink(BpfProgram program, string name, DataplaneChoice choice, string pinPath, out bool adopted)
    {
        if (choice == DataplaneChoice.XdpGeneric)
            return XdpLink.AttachPinned(program, name, XdpMode.Generic, pinPath, out adopted);
        if (choice == DataplaneChoice.Xdp)
            return XdpLink.AttachPinned(program, name, XdpMode.Native, pinPath, out adopted);
        try
        {
            return XdpLink.AttachPinned(program, name, XdpMode.Native, pinPath, out adopted);
        }
        catch (BpfException e) when (e.Errno is not (16 or 17)) // busy: another program is there, generic would not help
        {
            log.Warn("native xdp failed, trying generic", ("interface", name), ("reason", e.Message));
            return XdpLink.AttachPinned(program, name, XdpMode.Generic, pinPath, out adopted);
        }
    }
}
