using Microsoft.Extensions.Logging;
using XdpLb.Agent;
using XdpLb.Bpf;
using XdpLb.Bpf.Btf;
using XdpLb.Core.Config;
using XdpLb.Core.Logging;

// Disposed before the exit: the console logger writes on a thread of its own, flushed then.
using var loggers = AgentLogging.CreateFactory();
var log = loggers.CreateLogger("XdpLb.Agent");
try
{
    return await new AgentCommandLine(loggers).RunAsync(args);
}
catch (ConfigException e)
{
    log.Error("invalid config", ("errors", e.Errors.Count));
    Console.Error.WriteLine($"xdplb: {e.Message}");
    return 2;
}
catch (Exception e) when (e is BpfException or BtfLayoutException or PinnedMapsMismatchException)
{
    log.Error("bpf failure", ("error", e.Message));
    return 1;
}
catch (XdpLb.Kubernetes.KubernetesSetupException e)
{
    log.Error("kubernetes unreachable as configured", ("error", e.Message));
    Console.Error.WriteLine($"xdplb: {e.Message}");
    return 2;
}
catch (DataplaneUnavailableException e)
{
    log.Error("no dataplane", ("error", e.Message));
    Console.Error.WriteLine($"xdplb: {e.Message}");
    return 1;
}
catch (XdpLb.Ipvs.Netlink.NetlinkException e)
{
    log.Error("ipvs failure", ("error", e.Message));
    return 1;
}
catch (OperationCanceledException)
{
    // SIGTERM or SIGINT while starting (e.g. waiting for the cluster's first list): a stop, not a failure.
    log.Info("stopped");
    return 0;
}
catch (IOException e)
{
    // E.g. the API socket or the metrics address is taken: another agent runs with the same flags.
    log.Error("i/o failure", ("error", e.Message));
    return 1;
}
