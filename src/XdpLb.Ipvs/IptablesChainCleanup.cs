using System.Text;

namespace XdpLb.Ipvs;

/// <summary>
/// What to remove from one iptables table, read from `iptables-save -t TABLE`: the chains
/// <c>removable</c> picks, and every rule of another chain that jumps (-j) or goes (-g) to
/// one of them (the built-in chains' hooks, or a kept chain's reference, which would make
/// deleting the chain fail). <see cref="RestoreScript"/> does it all in one
/// `iptables-restore --noflush` transaction, so no packet sees half of it.
/// </summary>
public sealed class IptablesChainCleanup
{
    private IptablesChainCleanup(string table, IReadOnlyList<string> declared, IReadOnlyList<string> chains, IReadOnlyList<IptablesJump> jumps)
    {
        Table = table;
        Declared = declared;
        Chains = chains;
        Jumps = jumps;
    }

    public string Table { get; }
    /// <summary>Every chain the table has, built-in or not.</summary>
    public IReadOnlyList<string> Declared { get; }
    public IReadOnlyList<string> Chains { get; }
    /// <summary>Rules to delete, numbered as the chain holds them, the highest first in each chain.</summary>
    public IReadOnlyList<IptablesJump> Jumps { get; }
    public bool IsEmpty => Chains.Count == 0;

    public static IptablesChainCleanup Plan(string table, string saved, Func<string, bool> removable)
    {
        var declared = new List<string>();
        var chains = new List<string>();
        var rules = new List<IptablesJump>();
        var numbers = new Dictionary<string, int>();
        bool inTable = false;
        foreach (var raw in saved.Split('\n'))
        {
            string line = raw.Trim();
            if (line.StartsWith('*'))
                inTable = line[1..] == table;
            else if (!inTable || line.Length == 0 || line.StartsWith('#'))
                continue;
            else if (line.StartsWith(':'))
            {
                string chain = line[1..].Split(' ', 2)[0];
                declared.Add(chain);
                if (removable(chain))
                    chains.Add(chain);
            }
            else if (line.StartsWith("-A ", StringComparison.Ordinal))
            {
                var words = Words(line);
                string chain = words[1];
                int number = numbers[chain] = numbers.GetValueOrDefault(chain) + 1;
                if (Target(words) is { } target)
                    rules.Add(new IptablesJump(chain, number, target));
            }
        }
        var removed = chains.ToHashSet();
        var jumps = rules.Where(r => removed.Contains(r.Target) && !removed.Contains(r.Chain))
            .OrderBy(r => r.Chain, StringComparer.Ordinal).ThenByDescending(r => r.Number).ToList();
        return new IptablesChainCleanup(table, declared, chains, jumps);
    }

    /// <summary>
    /// For `iptables-restore --noflush`: a chain line empties an existing chain (so the chains
    /// no longer refer to each other), then the jumps into them go, then the chains.
    /// </summary>
    public string RestoreScript()
    {
        var script = new StringBuilder().Append('*').Append(Table).Append('\n');
        foreach (var chain in Chains)
            script.Append(':').Append(chain).Append(" - [0:0]\n");
        foreach (var jump in Jumps)
            script.Append("-D ").Append(jump.Chain).Append(' ').Append(jump.Number).Append('\n');
        foreach (var chain in Chains)
            script.Append("-X ").Append(chain).Append('\n');
        return script.Append("COMMIT\n").ToString();
    }

    private static string? Target(List<string> words)
    {
        for (int i = 2; i + 1 < words.Count; i++)
            if (words[i] is "-j" or "--jump" or "-g" or "--goto")
                return words[i + 1];
        return null;
    }

    /// <summary>A saved rule's words: iptables-save quotes an argument with spaces ("...", \" inside).</summary>
    internal static List<string> Words(string line)
    {
        var words = new List<string>();
        var word = new StringBuilder();
        bool quoted = false, any = false;
        for (int i = 0; i < line.Length; i++)
        {
            char c = line[i];
            if (c == '\\' && i + 1 < line.Length)
            {
                word.Append(line[++i]);
                any = true;
            }
            else if (c == '"')
            {
                quoted = !quoted;
                any = true;
            }
            else if (char.IsWhiteSpace(c) && !quoted)
            {
                if (any)
                    words.Add(word.ToString());
                word.Clear();
                any = false;
            }
            else
            {
                word.Append(c);
                any = true;
            }
        }
        if (any)
            words.Add(word.ToString());
        return words;
    }
}

/// <summary>Rule <c>Number</c> (from 1) of <c>Chain</c>, which jumps to <c>Target</c>.</summary>
public sealed record IptablesJump(string Chain, int Number, string Target);
