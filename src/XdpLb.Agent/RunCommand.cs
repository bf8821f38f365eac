using System.Runtime.InteropServices;
using XdpLb.Bpf;
using XdpLb.Core.Config;
using XdpLb.Core.Model;

namespace XdpLb.Agent;

/// <summary>
/// `xdplb run`: load the data path (adopting the maps and links an earlier agent pinned),
/// fill its maps from the config file, attach XDP to the interfaces, and serve until
/// SIGINT/SIGTERM. The file is re-read when it changes and on SIGHUP. On exit XDP stays
/// attached, with the maps pinned, so connections carry on, unless --detach-on-exit.
/// </summary>
internal static class RunCommand
{
    public static int Run(RunOptions options)
    {
        var config = ReadConfig(options.ConfigFile);
        if (!BpfFilesystem.Contains(options.BpfPinDir, out string probed))
            throw new UsageException($"--bpf-pin-dir {options.BpfPinDir} is not on a BPF filesystem ({probed} is not bpffs): " +
                "mount one first (mount -t bpf bpf /sys/fs/bpf), so that maps and links outlive the agent");
        string stateFile = Path.Combine(options.StateDir, "xdp-dataplane.json");

        using var program = XdpLbProgram.Load(config.Limits, options.BpfPinDir);
        var dataplane = new XdpDataplane(program);
        Adopt(program, dataplane, stateFile, options.BpfPinDir);
        SetTunnelSources(dataplane, options.Interfaces);
        var metrics = new AgentMetrics();
        using var running = new RunningDataplane(program, dataplane, config, options.ConfigFile, stateFile, metrics,
            () => NodeAddresses(options.Interfaces));
        Log.Info("maps filled", ("services", config.Services.Count), ("backends", config.Services.Sum(s => s.Backends.Count)));

        var links = new List<XdpLink>();
        // IPVS expires connections by per-connection timers; here a sweep each second does.
        using var expiry = new Timer(_ => running.Sweep(), null, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1));
        try
        {
            string linkDir = Path.Combine(options.BpfPinDir, "links");
            Directory.CreateDirectory(linkDir);
            try
            {
                foreach (var name in options.Interfaces)
                    links.Add(Attach(program.Ingress, name, options.Dataplane, Path.Combine(linkDir, name)));
            }
            catch
            {
                // A start that fails leaves no interface half-served: what this run attached
                // goes again (links adopted from an earlier agent keep serving).
                foreach (var link in links.Where(l => l.Mode is not null))
                {
                    link.Detach();
                    Log.Info("xdp detached: the start failed", ("interface", link.Interface));
                }
                throw;
            }
            foreach (var stale in Directory.GetFiles(linkDir).Where(f => !options.Interfaces.Contains(Path.GetFileName(f))))
            {
                XdpLink.DetachPinned(stale);
                Log.Info("xdp detached from an interface no longer served", ("interface", Path.GetFileName(stale)));
            }

            using var stop = new ManualResetEventSlim();
            using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, ctx => { ctx.Cancel = true; stop.Set(); });
            using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, ctx => { ctx.Cancel = true; stop.Set(); });
            using var sighup = PosixSignalRegistration.Create(PosixSignal.SIGHUP, ctx =>
            {
                ctx.Cancel = true;
                Log.Info("SIGHUP: reloading the config", ("config", options.ConfigFile));
                running.RequestReload();
            });
            using var watcher = new ConfigWatcher(options.ConfigFile, running.RequestReload);
            running.Start();

            var attachments = links.Select(l => new Api.V1.Attachment { Interface = l.Interface, Mode = l.Mode?.ToString().ToLowerInvariant() ?? "adopted" }).ToList();
            var view = new AgentView(running, program, dataplane, () => attachments, options.ConfigFile);
            metrics.Attach(running, program, dataplane);
            // IPVS's estimator works on 2 s samples; so do the rates here.
            using var rates = new Timer(_ => view.SampleRates(), null, TimeSpan.Zero, TimeSpan.FromSeconds(2));
            var host = AgentHost.StartAsync(options.ApiSocket, options.MetricsAddress, view, metrics,
                healthy: () => running.LastSyncSucceeded, ready: () => true).GetAwaiter().GetResult();
            // Parsing a large config leaves a large heap behind; give it back before serving.
            GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
            Log.Info("ready", ("config", options.ConfigFile), ("interfaces", string.Join(",", options.Interfaces)),
                ("bpf_pin_dir", options.BpfPinDir), ("api_socket", options.ApiSocket), ("metrics", options.MetricsAddress));
            stop.Wait();
            host.DisposeAsync().AsTask().GetAwaiter().GetResult();
            using (var ratesDone = new ManualResetEvent(false))
            {
                if (rates.Dispose(ratesDone))
                    ratesDone.WaitOne();
            }
            Log.Info(options.DetachOnExit ? "stopping: detaching xdp" : "stopping: xdp stays attached, maps stay pinned");
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
            }
        }
        finally
        {
            foreach (var link in links)
                link.Dispose();
        }
        Log.Info("stopped");
        return 0;
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
            Log.Warn("pinned maps adopted without the state that goes with them: services are rewritten; " +
                "connection counts may be off until the connections open now have ended", ("bpf_pin_dir", pinDir), ("reason", problem));
            dataplane.ClearServices();
            return;
        }
        dataplane.ImportState(state);
        Log.Info("adopted the pinned maps and the state of the previous agent", ("bpf_pin_dir", pinDir),
            ("services", state.Services.Length), ("connections", program.Conntrack.Count() / 2));
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
        Log.Info("tunnel sources", ("ipv4", v4), ("ipv6", v6));
    }

    internal static LbConfig ReadConfig(string path)
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
        var unsupported = XdpDataplaneSupport.Unsupported(config);
        if (unsupported.Count > 0)
            throw new ConfigException(path, unsupported);
        return config;
    }

    private static XdpLink Attach(BpfProgram program, string name, DataplaneChoice choice, string pinPath)
    {
        var link = AttachLink(program, name, choice, pinPath, out bool adopted);
        if (adopted)
            Log.Info("xdp link adopted", ("interface", name), ("ifindex", link.Ifindex));
        else
            Log.Info("xdp attached", ("interface", name), ("ifindex", link.Ifindex), ("mode", link.Mode?.ToString().ToLowerInvariant()));
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
            Log.Warn("native xdp failed, trying generic", ("interface", name), ("reason", e.Message));
            return XdpLink.AttachPinned(program, name, XdpMode.Generic, pinPath, out adopted);
        }
    }
}
