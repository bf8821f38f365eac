namespace XdpLb.Ipvs;

/// <summary>
/// Removes what kube-proxy leaves on a node when it stops (its IPVS, iptables and nftables
/// modes), in the order of kube-proxy's own CleanupLeftovers: IPVS virtual servers, the
/// dummy interface kube-ipvs0, the KUBE-* iptables chains and the rules that jump to them
/// (every iptables backend and family installed), the KUBE-* ipsets (once no rule refers to
/// them), and the nftables tables `ip kube-proxy` and `ip6 kube-proxy`.
/// </summary>
/// <remarks>
/// Two departures from kube-proxy's cleanup. Its IPVS mode flushes every virtual server;
/// here the ones xdplb owns (its IPVS dataplane's state file) are spared, so that the
/// takeover can run while xdplb already serves the same ClusterIPs on IPVS. And kubelet's
/// chains (KUBE-FIREWALL, which drops outside traffic to 127/8, and its canary) stay, as
/// kube-proxy leaves them: kubelet keeps running after the takeover.
/// </remarks>
public sealed class KubeProxyLeftovers(HostCommands commands, ICleanupReport report)
{
    public const string DummyInterface = "kube-ipvs0";
    public const string NftTable = "kube-proxy";
    public static readonly IReadOnlyList<string> Tables = ["nat", "filter", "mangle"];
    public static readonly IReadOnlySet<string> KubeletChains = new HashSet<string> { "KUBE-FIREWALL", "KUBE-KUBELET-CANARY" };
    private const string Prefix = "KUBE-";

    public static bool IsKubeProxyChain(string chain) => chain.StartsWith(Prefix, StringComparison.Ordinal) && !KubeletChains.Contains(chain);

    /// <param name="spared">Virtual servers xdplb owns: left in place.</param>
    public void Remove(IReadOnlyCollection<IpvsService> spared)
    {
        var host = new HostCleanup(commands, report);
        host.DeleteVirtualServersExcept(spared, "xdplb owns it (--state-dir)");
        host.DeleteInterface(DummyInterface);
        var tools = IptablesTool.Installed(commands);
        if (tools.Count == 0)
            report.Note("neither iptables nor ip6tables is installed: no chains looked at");
        foreach (var tool in tools)
            foreach (var table in Tables)
                RemoveChains(tool, table);
        RemoveIpsets();
        host.DeleteNftTables(("ip", NftTable), ("ip6", NftTable));
    }

    private void RemoveChains(IptablesTool tool, string table)
    {
        if (!tool.MayHold(table))
            return;
        string saved;
        try
        {
            saved = commands.Run(tool.Save, "-t", table);
        }
        catch (InvalidOperationException e) when (HostCleanup.NoKernelSupport(e))
        {
            report.Note($"{tool.Name}: the kernel does not support it, no {table} table looked at");
            return;
        }
        catch (InvalidOperationException e)
        {
            report.Failed($"{tool.Name} -t {table} (reading it)", e.Message);
            return;
        }
        var plan = IptablesChainCleanup.Plan(table, saved, IsKubeProxyChain);
        foreach (var chain in plan.Declared.Where(KubeletChains.Contains))
            report.Kept($"{tool.Name} -t {table} chain {chain}", "kubelet's");
        if (plan.IsEmpty)
            return;
        try
        {
            // --wait: kubelet (or a firewall) may hold the xtables lock for a moment.
            commands.Run(tool.Restore, ["--noflush", "--wait=5"], plan.RestoreScript());
        }
        catch (InvalidOperationException e)
        {
            report.Failed($"{tool.Name} -t {table} chains {string.Join(" ", plan.Chains)}", e.Message);
            return;
        }
        foreach (var jump in plan.Jumps)
            report.Removed($"{tool.Name} -t {table} rule {jump.Number} of {jump.Chain} (-j {jump.Target})");
        foreach (var chain in plan.Chains)
            report.Removed($"{tool.Name} -t {table} chain {chain}");
    }

    private void RemoveIpsets()
    {
        string? ipset = commands.Find("ipset");
        if (ipset is null)
        {
            report.Note("ipset is not installed: no sets looked at");
            return;
        }
        string listed;
        try
        {
            listed = commands.Run(ipset, "list", "-n");
        }
        catch (InvalidOperationException e)
        {
            report.Failed("ipsets (listing them)", e.Message);
            return;
        }
        var sets = listed.Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            .Where(s => s.StartsWith(Prefix, StringComparison.Ordinal)).ToList();
        if (sets.Count == 0)
            report.Note("no KUBE-* ipsets");
        foreach (var set in sets)
        {
            try
            {
                commands.Run(ipset, "destroy", set);
                report.Removed($"ipset {set}");
            }
            catch (InvalidOperationException e)
            {
                report.Failed($"ipset {set}", e.Message);
            }
        }
    }
}
