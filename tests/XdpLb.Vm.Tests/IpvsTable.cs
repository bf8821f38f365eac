namespace XdpLb.Vm.Tests;

/// <summary>
/// `ipvsadm -Ln` parsed: the virtual servers with their flags and real servers, so that tests
/// compare what kube-proxy's IPVS proxier would have made, line by line, apart from counters.
/// </summary>
public sealed record IpvsTable(IReadOnlyList<IpvsTable.VirtualServer> Servers)
{
    /// <param name="Key">"TCP 10.96.0.10:80"</param>
    /// <param name="Settings">the scheduler and flags as ipvsadm prints them: "rr", "rr persistent 10800"</param>
    public sealed record VirtualServer(string Key, string Settings, IReadOnlyList<RealServer> Dests);

    public sealed record RealServer(string Address, string Forward, int Weight, int Active, int Inactive);

    public static IpvsTable Parse(string text)
    {
        var servers = new List<VirtualServer>();
        foreach (var line in text.Split('\n'))
        {
            var f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (f.Length >= 3 && f[0] is "TCP" or "UDP" or "SCTP" or "FWM")
                servers.Add(new VirtualServer($"{f[0]} {f[1]}", string.Join(' ', f[2..]), new List<RealServer>()));
            else if (f.Length == 6 && f[0] == "->" && servers.Count > 0 && int.TryParse(f[3], out int weight))
                ((List<RealServer>)servers[^1].Dests).Add(new RealServer(f[1], f[2], weight, int.Parse(f[4]), int.Parse(f[5])));
        }
        return new IpvsTable(servers);
    }

    public VirtualServer? Find(string key) => Servers.FirstOrDefault(s => s.Key == key);

    public RealServer? Dest(string key, string address) => Find(key)?.Dests.FirstOrDefault(d => d.Address == address);

    /// <summary>One line per virtual server and per real server, counters left out, sorted.</summary>
    public IReadOnlyList<string> Describe(Func<VirtualServer, bool> which) =>
        Servers.Where(which)
            .SelectMany(s => s.Dests.Select(d => $"{s.Key} -> {d.Address} {d.Forward} {d.Weight}").Prepend($"{s.Key} {s.Settings}"))
            .Order(StringComparer.Ordinal)
            .ToList();

    /// <summary>The lines <see cref="Describe"/> gives for a server with these real servers, Masq at weight 1 (kube-proxy's).</summary>
    public static IEnumerable<string> Expected(string key, string settings, params string[] dests) =>
        dests.Select(d => $"{key} -> {d} Masq 1").Prepend($"{key} {settings}");

    public override string ToString() => string.Join('\n', Describe(_ => true));
}
