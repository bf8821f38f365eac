using System.CommandLine;
using System.CommandLine.Parsing;
using Microsoft.Extensions.Logging;

namespace XdpLb.Agent;

/// <summary>
/// Every command and flag of xdplb, defined once: parsing, the checks and the help text all
/// come from these definitions. A command line that cannot be run is a <see cref="UsageException"/>
/// (exit 2), its message in xdplb's words, followed by the command's help where that helps.
/// </summary>
internal sealed class AgentCommandLine
{
    private readonly RootCommand root;

    public AgentCommandLine(ILoggerFactory loggers)
    {
        root = new RootCommand("xdplb: an L4 load balancer on XDP (or on the kernel's IPVS where XDP cannot run), in place of kube-proxy's IPVS mode")
        {
            RunCommandLine.Create(loggers),
            ListCommand.Create(),
            StatsCommand.Create(),
            CleanupCommand.Create(loggers),
        };
        var help = new Command("help", "this text");
        help.SetAction(_ => WriteHelp(root, Console.Out));
        root.Subcommands.Add(help);
    }

    /// <summary>The exit status: the command's, 2 for a usage error, 0 for help. Other failures are thrown.</summary>
    public async Task<int> RunAsync(string[] args)
    {
        if (args.Length == 0)
        {
            WriteHelp(root, Console.Out);
            return 2;
        }
        var parse = Parse(args);
        var command = parse.CommandResult.Command;
        try
        {
            if (parse.Errors.Count > 0)
                throw Refusal(parse);
            // Signals are the host's (xdplb run) or left at their defaults: none of System.CommandLine's handling.
            return await parse.InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false, ProcessTerminationTimeout = null });
        }
        catch (UsageException e)
        {
            Console.Error.WriteLine($"xdplb: {e.Message}");
            if (e.ShowUsage)
                WriteHelp(command, Console.Error);
            return 2;
        }
    }

    /// <summary>The command line against the definitions, nothing run yet.</summary>
    internal ParseResult Parse(string[] args) =>
        // No @response files: an argument is what it says.
        root.Parse(args, new ParserConfiguration { ResponseFileTokenReplacer = null, EnablePosixBundling = false });

    /// <summary>The first parse error, as xdplb has always worded it.</summary>
    internal static UsageException Refusal(ParseResult parse)
    {
        if (parse.UnmatchedTokens.Count > 0)
        {
            string token = parse.UnmatchedTokens[0];
            return parse.CommandResult.Command is RootCommand
                ? new UsageException($"unknown command \"{token}\"", showUsage: true)
                : new UsageException($"unknown flag \"{token}\"", showUsage: true);
        }
        var error = parse.Errors[0];
        if (error.SymbolResult is OptionResult { Tokens.Count: 0, Implicit: false } option)
            return new UsageException($"{option.Option.Name} needs a value", showUsage: true);
        return new UsageException(error.Message);
    }

    private int WriteHelp(Command command, TextWriter output)
    {
        string[] tokens = command == root ? ["--help"] : [command.Name, "--help"];
        return root.Parse(tokens).Invoke(new InvocationConfiguration { Output = output });
    }
}
