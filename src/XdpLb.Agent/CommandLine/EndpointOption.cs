using System.CommandLine;
using System.Net;

namespace XdpLb.Agent;

/// <summary>The flags that take ADDR:PORT, parsed one way: an address and a port other than 0.</summary>
internal static class EndpointOption
{
    public static Option<IPEndPoint?> Create(string name, string description, string example, string? defaultValue = null)
    {
        var option = new Option<IPEndPoint?>(name)
        {
            Description = description,
            HelpName = "ADDR:PORT",
            CustomParser = result =>
            {
                if (result.Tokens.Count == 0)
                    return defaultValue is null ? null : IPEndPoint.Parse(defaultValue);
                // Each value is checked; given twice, the last counts.
                IPEndPoint? last = null;
                foreach (var token in result.Tokens)
                {
                    if (!IPEndPoint.TryParse(token.Value, out last) || last.Port == 0)
                    {
                        result.AddError($"{name} \"{token.Value}\" is not ADDR:PORT (e.g. {example})");
                        return null;
                    }
                }
                return last;
            },
        };
        if (defaultValue is not null)
            option.DefaultValueFactory = _ => IPEndPoint.Parse(defaultValue);
        return option;
    }
}
