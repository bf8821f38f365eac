using System.CommandLine;
using System.Globalization;
using System.Text;
using XdpLb.Api.V1;

namespace XdpLb.Agent;

/// <summary>
/// `xdplb stats [--service ADDR:PORT/PROTO] [--json] [--watch] [--api-socket PATH]`:
/// per-backend packets, bytes, connections (new, active, inactive) with rates, and the
/// data path's drops by reason. --watch redraws in place every second.
/// </summary>
internal static class StatsCommand
{
    private static readonly Option<string?> Service = new("--service")
    {
        HelpName = "ADDR:PORT/PROTO",
        Description = "one service only",
    };
    private static readonly Option<bool> Json = CommonOptions.Flag("--json", "the API's message in protobuf's JSON mapping");
    private static readonly Option<bool> Watch = CommonOptions.Flag("--watch", "redraw every second");
    private static readonly Option<string> ApiSocket = CommonOptions.ApiSocket("the agent's API socket");

    public static Command Create()
    {
        var command = new Command("stats", "per-backend counters and rates, and drops by reason") { Service, Json, Watch, ApiSocket };
        command.SetAction(Run);
        return CommonOptions.LastValueWins(command);
    }

    private static int Run(ParseResult parse)
    {
        string? service = parse.GetValue(Service);
        bool json = parse.GetValue(Json), watch = parse.GetValue(Watch);
        string socket = Path.GetFullPath(parse.GetRequiredValue(ApiSocket));
        var request = new GetStatsRequest { Service = service ?? "" };
        if (!watch)
        {
            var response = ApiCall.Run(socket, c => c.GetStats(request));
            Console.Write(json ? ApiCall.Json(response) : Render(response));
            return 0;
        }
        using var stop = new ManualResetEventSlim();
        Console.CancelKeyPress += (_, e) => { e.Cancel = true; stop.Set(); };
        do
        {
            var response = ApiCall.Run(socket, c => c.GetStats(request));
            // Home and clear, then the table: a redraw in place.
            Console.Write("\u001b[H\u001b[2J" + (json ? ApiCall.Json(response) : Render(response)));
        } while (!stop.Wait(TimeSpan.FromSeconds(1)));
        return 0;
    }

    internal static string Render(GetStatsResponse r)
    {
        var sb = new StringBuilder();
        foreach (var s in r.Services)
        {
            string name = s.Name.Length > 0 ? $" ({s.Name})" : "";
            sb.Append(CultureInfo.InvariantCulture, $"{s.Protocol.ToUpperInvariant()} {Endpoint(s.Address, s.Port)}{name} {s.Scheduler}\n");
            sb.Append(CultureInfo.InvariantCulture,
                $"  {"backend",-28} {"weight",6} {"conns",8} {"active",7} {"inact",7} {"pkts_in",10} {"pkts_out",10} {"bytes_in",12} {"bytes_out",12} {"cps",6} {"pps_in",8} {"pps_out",8} {"sock_conn",9} {"sock_dgram",10}\n");
            foreach (var b in s.Backends)
                sb.Append(CultureInfo.InvariantCulture,
                    $"  {Endpoint(b.Address, b.Port),-28} {b.Weight,6} {b.Stats.Conns,8} {b.ActiveConns,7} {b.InactiveConns,7} {b.Stats.InPackets,10} {b.Stats.OutPackets,10} {b.Stats.InBytes,12} {b.Stats.OutBytes,12} {b.Rate.Conns,6} {b.Rate.InPackets,8} {b.Rate.OutPackets,8} {SocketColumn(b.Socket?.Connects),9} {SocketColumn(b.Socket?.Datagrams),10}\n");
        }
        sb.Append("drops by reason:\n");
        foreach (var (name, value) in r.Counters.Where(c => c.Key.StartsWith("drop_", StringComparison.Ordinal) || c.Key == "malformed").OrderBy(c => c.Key))
            sb.Append(CultureInfo.InvariantCulture, $"  {name,-24} {value,12}\n");
        // In event order (opened, assured, expired, reclaimed, refused), as the data path counts them.
        var conntrack = r.Counters.Where(c => c.Key.StartsWith("conntrack_", StringComparison.Ordinal)).ToList();
        if (conntrack.Count > 0)
        {
            sb.Append("connection table:\n");
            foreach (var (name, value) in conntrack)
                sb.Append(CultureInfo.InvariantCulture, $"  {name,-38} {value,12}\n");
        }
        var sock = r.Counters.Where(c => c.Key.StartsWith("sock_", StringComparison.Ordinal)).OrderBy(c => c.Key).ToList();
        if (sock.Count > 0)
        {
            sb.Append("socket hooks:\n");
            foreach (var (name, value) in sock)
                sb.Append(CultureInfo.InvariantCulture, $"  {name,-24} {value,12}\n");
        }
        if (r.Dataplane.Length > 0)
            sb.Append(CultureInfo.InvariantCulture, $"dataplane: {r.Dataplane}\n");
        return sb.ToString();
    }

    // "-" where no socket hooks are attached (IPVS, --cgroup-root none): nothing is counted there.
    private static string SocketColumn(ulong? value) => value?.ToString(CultureInfo.InvariantCulture) ?? "-";

    private static string Endpoint(string address, uint port) => address.Contains(':') ? $"[{address}]:{port}" : $"{address}:{port}";
}
