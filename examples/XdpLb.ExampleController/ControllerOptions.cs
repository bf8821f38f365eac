namespace XdpLb.ExampleController;

/// <summary>The command line: where the agent is, who this controller is, what it declares.</summary>
public sealed record ControllerOptions(string Socket, string Controller, string ServicesFile, bool Once, bool Counters, uint IntervalMs)
{
    public const string Usage =
        "usage: XdpLb.ExampleController [--socket PATH] [--controller NAME] [--once] [--counters [--interval-ms N]] SERVICES.json";

    /// <summary>The agent's default --api-socket.</summary>
    public const string DefaultSocket = "/run/xdplb/xdplb.sock";

    public static ControllerOptions Parse(string[] args)
    {
        string socket = DefaultSocket, controller = "example";
        string? file = null;
        bool once = false, counters = false;
        uint interval = 1000;
        for (int i = 0; i < args.Length; i++)
        {
            string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            switch (args[i])
            {
                case "--socket": socket = Value(); break;
                case "--controller": controller = Value(); break;
                case "--once": once = true; break;
                case "--counters": counters = true; break;
                case "--interval-ms":
                    string text = Value();
                    interval = uint.TryParse(text, out var ms) ? ms : throw new ArgumentException($"--interval-ms \"{text}\" is not a number");
                    break;
                default:
                    if (args[i].StartsWith('-') || file is not null)
                        throw new ArgumentException($"unexpected \"{args[i]}\"");
                    file = args[i];
                    break;
            }
        }
        return new ControllerOptions(socket, controller, file ?? throw new ArgumentException("the services file is missing"), once, counters, interval);
    }
}
