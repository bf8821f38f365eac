using System.Runtime.InteropServices;
using XdpLb.Bpf;
using XdpLb.Core.Config;
using XdpLb.Core.Model;

namespace XdpLb.Agent;

/// <summary>
/// `xdplb run`: load the data path, fill its maps from the config file, attach XDP to
/// the interfaces, and serve until SIGINT/SIGTERM, then detach. SIGHUP re-reads the file.
/// </summary>
internal static class RunCommand
{
    public static int Run(RunOptions options)
    {
        var config = ReadConfig(options.ConfigFile);

        using var program = XdpLbProgram.Load(config.Limits);
        var dataplane = new XdpDataplane(program);
        dataplane.Apply(config);
        var running = new RunningDataplane(program, dataplane, config);
        Log.Info("maps filled", ("services", config.Services.Count), ("backends", config.Services.Sum(s => s.Backends.Count)));

        var links = new List<XdpLink>();
        // IPVS expires connections by per-connection timers; here a sweep each second does.
        using var expiry = new Timer(_ => running.Sweep(), null, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1));
        try
        {
            foreach (var name in options.Interfaces)
            {
                var link = Attach(program.Ingress, name, options.Dataplane);
                links.Add(link);
                Log.Info("xdp attached", ("interface", name), ("ifindex", link.Ifindex), ("mode", link.Mode.ToString().ToLowerInvariant()));
            }

            using var stop = new ManualResetEventSlim();
            using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, ctx => { ctx.Cancel = true; stop.Set(); });
            using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, ctx => { ctx.Cancel = true; stop.Set(); });
            using var sighup = PosixSignalRegistration.Create(PosixSignal.SIGHUP, ctx =>
            {
                ctx.Cancel = true;
                Log.Info("SIGHUP: reloading the config", ("config", options.ConfigFile));
                running.Reload(options.ConfigFile);
            });
            Log.Info("ready", ("config", options.ConfigFile), ("interfaces", string.Join(",", options.Interfaces)));
            stop.Wait();
            Log.Info("stopping: detaching xdp");
            using (var sweepsDone = new ManualResetEvent(false))
            {
                // Waits for a sweep in progress: the maps go away with the program.
                if (expiry.Dispose(sweepsDone))
                    sweepsDone.WaitOne();
            }
            running.LogStats();
        }
        finally
        {
            foreach (var link in links)
                link.Dispose();
        }
        Log.Info("stopped");
        return 0;
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

    private static XdpLink Attach(BpfProgram program, string name, DataplaneChoice choice)
    {
        if (choice == DataplaneChoice.XdpGeneric)
            return XdpLink.Attach(program, name, XdpMode.Generic);
        if (choice == DataplaneChoice.Xdp)
            return XdpLink.Attach(program, name, XdpMode.Native);
        try
        {
            return XdpLink.Attach(program, name, XdpMode.Native);
        }
        catch (BpfException e) when (e.Errno is not (16 or 17)) // busy: another program is there, generic would not help
        {
            Log.Warn("native xdp failed, trying generic", ("interface", name), ("reason", e.Message));
            return XdpLink.Attach(program, name, XdpMode.Generic);
        }
    }
}
