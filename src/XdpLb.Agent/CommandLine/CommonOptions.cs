using System.CommandLine;

namespace XdpLb.Agent;

/// <summary>Flags that several commands take, defined once so that their names, defaults and help agree.</summary>
internal static class CommonOptions
{
    public static Option<string> BpfPinDir() => new("--bpf-pin-dir")
    {
        HelpName = "DIR",
        Description = "where maps, XDP links and socket hooks are pinned (on bpffs)",
        DefaultValueFactory = _ => RunOptions.DefaultBpfPinDir,
    };

    public static Option<string> StateDir() => new("--state-dir")
    {
        HelpName = "DIR",
        Description = "the agent's state files, for the next agent",
        DefaultValueFactory = _ => RunOptions.DefaultStateDir,
    };

    public static Option<string> ApiSocket(string description) => new("--api-socket")
    {
        HelpName = "PATH",
        Description = description,
        DefaultValueFactory = _ => RunOptions.DefaultApiSocket,
    };

    /// <summary>A flag that takes no value: `--json true` is a flag and a stray argument, as it always was.</summary>
    public static Option<bool> Flag(string name, string description, params string[] aliases) => new(name, aliases)
    {
        Description = description,
        Arity = ArgumentArity.Zero,
    };

    /// <summary>
    /// A flag given twice takes its last value, as it always has: a wrapper can pass a default
    /// that the flags after it override. Lists (--interface) and flags without a value stay as they are.
    /// </summary>
    public static T LastValueWins<T>(T command) where T : Command
    {
        foreach (var option in command.Options)
        {
            if (option.ValueType == typeof(bool) || option.ValueType.IsArray)
                continue;
            option.Arity = ArgumentArity.OneOrMore;
            if (option is Option<string> text && text.CustomParser is null)
                text.CustomParser = r => r.Tokens.Count > 0 ? r.Tokens[^1].Value : text.DefaultValueFactory?.Invoke(r);
        }
        return command;
    }
}
