using System.CommandLine;
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
    private static readonly Option<bool> KubeProxy = CommonOptions.Flag("--kube-proxy",
        "remove what kube-proxy leaves behind instead: IPVS virtual servers (not xdplb's), kube-ipvs0, KUBE-* iptables chains " +
        "and the jumps to them, KUBE-* ipsets, the nftables tables ip/ip6 kube-proxy");
    private static readonly Option<string> BpfPinDir = CommonOptions.BpfPinDir();
    private static readonly Option<string> StateDir = CommonOptions.StateDir();
    private static readonly Option<string> ApiSocket = CommonOptions.ApiSocket("the agent's API socket: no cleanup while an agent answers there");

    public static Command Create(ILoggerFactory loggers)
    {
        var command = new Command("cleanup",
            "remove xdplb's state: detach the pinned XDP links and socket hooks, remove the pinned maps, the IPVS virtual servers " +
            "xdplb owns, xdplb-ipvs0, table inet xdplb_ipvs, the state files; refused while an agent answers on the API socket")
        {
            KubeProxy, BpfPinDir, StateDir, ApiSocket,
        };
        command.SetAction(parse => Run(parse, loggers.CreateLogger(typeof(CleanupCommand))));
        return CommonOptions.LastValueWins(command);
    }

    private static int Run(ParseResult parse, ILogger log)
    {
        bool kubeProxy = parse.GetValue(KubeProxy);
        string pinDir = parse.GetRequiredValue(BpfPinDir), stateDir = parse.GetRequiredValue(StateDir), apiSocket = parse.GetRequiredValue(ApiSocket);
        stateDir = Path.GetFullPath(stateDir);
        if (kubeProxy)
        {
            if (new Option[] { BpfPinDir, ApiSocket }.Any(o => parse.GetResult(o) is { Implicit: false }))
                throw new UsageException("--kube-proxy takes only --state-dir (whose IPVS virtual servers it spares)", showUsage: true);
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
