namespace XdpLb.Ipvs;

/// <summary>
/// One iptables backend for one family: iptables-legacy and iptables-nft (and ip6tables-*)
/// hold separate rules, and kube-proxy used whichever the node's `iptables` was, so a
/// cleanup looks at every one installed.
/// </summary>
/// <param name="LoadedTables">For legacy: the file listing the tables this namespace has.</param>
public sealed record IptablesTool(string Name, string Save, string Restore, string? LoadedTables)
{
    public static IReadOnlyList<IptablesTool> Installed(HostCommands commands)
    {
        var tools = new List<IptablesTool>();
        foreach (var (family, loaded) in new[] { ("iptables", "/proc/net/ip_tables_names"), ("ip6tables", "/proc/net/ip6_tables_names") })
        {
            var variants = new[] { Find(commands, family + "-legacy", loaded), Find(commands, family + "-nft", null) }.OfType<IptablesTool>().ToList();
            // Plain `iptables` is one of the two (Debian's alternatives); alone, it is whichever it was built as.
            if (variants.Count == 0 && Find(commands, family, null) is { } plain)
                variants.Add(plain);
            tools.AddRange(variants);
        }
        return tools;
    }

    /// <summary>
    /// Whether the table may hold rules. A legacy table exists only once used in this
    /// namespace, and reading one that does not would load its module: such tables are skipped.
    /// </summary>
    public bool MayHold(string table) =>
        LoadedTables is null || (File.Exists(LoadedTables) && File.ReadAllLines(LoadedTables).Contains(table));

    private static IptablesTool? Find(HostCommands commands, string name, string? loaded) =>
        commands.Find(name + "-save") is { } save && commands.Find(name + "-restore") is { } restore
            ? new IptablesTool(name, save, restore, loaded)
            : null;
}
