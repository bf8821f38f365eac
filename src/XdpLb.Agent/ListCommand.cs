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
    public const string Usage = "usage: xdplb list [-n] [--stats|--rate] [-c] [--json] [--api-socket PATH]";

    public static int Run(IReadOnlyList<string> args)
    {
        bool stats = false, rate = false, connections = false, json = false;
        string socket = RunOptions.DefaultApiSocket;
        var flags = new FlagReader(args, Usage);
        while (flags.Next())
        {
            switch (flags.Flag)
            {
                case "-n":
                case "-L":
                case "-Ln":
                    break; // addresses are always numeric
                case "--stats":
                    stats = true;
                    break;
                case "--rate":
                    rate = true;
                    break;
                case "-c":
                case "--connection":
                    connections = true;
                    break;
                case "--json":
                    json = true;
                    break;
                case "--api-socket":
                    socket = Path.GetFullPath(flags.Value());
                    break;
                default:
                    throw flags.Unknown();
            }
        }
        if (stats && rate)
            throw new UsageException($"--stats and --rate cannot be combined (as with ipvsadm)\n{Usage}");

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
