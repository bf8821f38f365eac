using Microsoft.Extensions.Logging;
using XdpLb.Core.Logging;
using System.Net.Sockets;
using System.Text.Json;
using XdpLb.Ipvs;

namespace XdpLb.Agent;

/// <summary>
/// `xdplb cleanup`: removes xdplb's own state from the node (going back), refusing while an
/// agent answers on the API socket. `xdplb cleanup --kube-proxy`: removes what kube-proxy
/// left behind (taking over), sparing the IPVS virtual servers xdplb owns.
/// Exit status: 0 when everything is gone, 1 when something could not be removed (named),
/// 2 for a bad command line or a refusal.
/// </summary>
internal static class CleanupCommand
{
    public const string Usage =
        "usage: xdplb cleanup [--bpf-pin-dir DIR] [--state-dir DIR] [--api-socket PATH]\n" +
        "       xdplb cleanup --kube-proxy [--state-dir DIR]";

    public static int Run(IReadOnlyList<string> args, ILogger log)
    {
        bool kubeProxy = false;
        string pinDir = RunOptions.DefaultBpfPinDir, stateDir = RunOptions.DefaultStateDir, apiSocket = RunOptions.DefaultApiSocket;
        var given = new HashSet<string>();
        var flags = new FlagReader(args, Usage);
        while (flags.Next())
        {
            string flag = flags.Flag;
            given.Add(flag);
            switch (flag)
            {
                case "--kube-proxy":
                    kubeProxy = true;
                    break;
                case "--bpf-pin-dir":
                    pinDir = flags.Value();
                    break;
                case "--state-dir":
                    stateDir = flags.Value();
                    break;
                case "--api-socket":
                    apiSocket = flags.Value();
                    break;
                default:
                    throw flags.Unknown();
            }
        }
        stateDir = Path.GetFullPath(stateDir);
        if (kubeProxy)
        {
            if (given.Overlaps(["--bpf-pin-dir", "--api-socket"]))
                throw new UsageException($"--kube-proxy takes only --state-dir (whose IPVS virtual servers it spares)\n{Usage}");
            return CleanKubeProxy(stateDir, log);
        }
        apiSocket = Path.GetFullPath(apiSocket);
        if (AgentAnswers(apiSocket))
            throw new UsageException($"an agent is running (it answers on {apiSocket}): stop it before cleaning up its state");
        var report = new CleanupLog(log);
        new XdplbStateCleanup(Path.TrimEndingDirectorySeparator(Path.GetFullPath(pinDir)), stateDir, apiSocket, report).Remove();
        return report.Finish("cleanup");
    }

    private static int CleanKubeProxy(string stateDir, ILogger log)
    {
        string stateFile = Path.Combine(stateDir, RunOptions.IpvsStateFile);
        IReadOnlyList<IpvsService> owned;
        try
        {
            owned = IpvsDataplane.OwnedVirtualServers(stateFile);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException or InvalidDataException)
        {
            // Without it, xdplb's own virtual servers cannot be told from kube-proxy's.
            Console.Error.WriteLine($"xdplb: cannot read {stateFile}, so the virtual servers xdplb owns are unknown; nothing removed: {e.Message}");
            return 1;
        }
        var report = new CleanupLog(log);
        new KubeProxyLeftovers(new HostCommands(), report).Remove(owned);
        return report.Finish("kube-proxy cleanup");
    }

    /// <summary>A connect() that succeeds: an agent listens there (a socket file alone may be left by a killed one).</summary>
    internal static bool AgentAnswers(string socketPath)
    {
        if (!File.Exists(socketPath))
            return false;
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            socket.Connect(new UnixDomainSocketEndPoint(socketPath));
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
