using System.CommandLine;
using XdpLb.Api.V1;
using XdpLb.Core.Status;

namespace XdpLb.Agent;

/// <summary>
/// `xdplb list [-n] [--stats|--rate] [-c] [--json] [--api-socket PATH]`: ipvsadm -Ln's text
/// (or -Lnc's with -c), byte for byte, from the running agent; --json prints the API's
/// messages in protobuf's JSON mapping. --stats adds, after the table, what the socket hooks
/// gave each backend (when they are attached).
/// </summary>
internal static class ListCommand
{
    private static readonly Option<bool> Numeric = CommonOptions.Flag("-n", "numeric addresses and ports (always so; for ipvsadm's habit)", "-L", "-Ln");
    private static readonly Option<bool> Stats = CommonOptions.Flag("--stats", "the counters, as ipvsadm --stats, and what the socket hooks gave each backend");
    private static readonly Option<bool> Rate = CommonOptions.Flag("--rate", "the rates, as ipvsadm --rate");
    private static readonly Option<bool> Connections = CommonOptions.Flag("-c", "the connections, as ipvsadm -Lnc", "--connection");
    private static readonly Option<bool> Json = CommonOptions.Flag("--json", "the API's messages in protobuf's JSON mapping");
    private static readonly Option<string> ApiSocket = CommonOptions.ApiSocket("the agent's API socket");

    public static Command Create()
    {
        var command = new Command("list", "the services and backends as `ipvsadm -Ln` shows them (-c: the connections)")
        {
            Numeric, Stats, Rate, Connections, Json, ApiSocket,
        };
        command.SetAction(Run);
        return CommonOptions.LastValueWins(command);
    }

    private static int Run(ParseResult parse)
    {
        bool stats = parse.GetValue(Stats), rate = parse.GetValue(Rate), connections = parse.GetValue(Connections), json = parse.GetValue(Json);
        string socket = Path.GetFullPath(parse.GetRequiredValue(ApiSocket));
        if (stats && rate)
            throw new UsageException("--stats and --rate cannot be combined (as with ipvsadm)", showUsage: true);

        if (connections)
        {
            var response = ApiCall.Run(socket, c => c.ListConnections(new ListConnectionsRequest()));
            Console.Write(json ? ApiCall.Json(response) : IpvsAdmFormat.Connections(response.Connections.Select(ApiMapping.FromApi).ToList()));
            return 0;
        }
        var services = ApiCall.Run(socket, c => c.ListServices(new ListServicesRequest()));
        if (json)
        {
            Console.Write(ApiCall.Json(services));
            return 0;
        }
        var table = services.Services.Select(ApiMapping.FromApi).ToList();
        Console.Write(stats ? IpvsAdmFormat.Stats(table, services.ConnectionTableSize) + SocketTranslationsFormat.Section(table)
            : rate ? IpvsAdmFormat.Rate(table, services.ConnectionTableSize)
            : IpvsAdmFormat.List(table, services.ConnectionTableSize));
        return 0;
    }
}
