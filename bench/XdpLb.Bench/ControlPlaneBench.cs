using System.Diagnostics;
using System.Net;
using System.Text;
using XdpLb.Bpf;
using XdpLb.Core.Model;

namespace XdpLb.Bench;

// Control-plane figures for SERVICES x BACKENDS (default 10,000 x 10), beside the time
// iptables-restore takes to load the kube-proxy-shaped NAT rules for the same services
// in the same run:
//  - full sync from empty: the reconciler writing every service into fresh maps;
//  - one change: one service gets one more backend, the reconciler finds and writes it;
//  - the agent's RSS once it serves that config (the real ./bin/xdplb in a scratch netns);
//  - iptables-restore (legacy and nft, where installed) of KUBE-SERVICES / KUBE-SVC-* /
//    KUBE-SEP-* chains with statistic-mode random endpoint selection, in a scratch netns.
// usage: XdpLb.Bench control-plane AGENT [SERVICES] [BACKENDS]
internal static class ControlPlaneBench
{
    private const int Rounds = 3;

    public static int Run(string[] args)
    {
        string agent = args[0];
        int services = args.Length > 1 ? int.Parse(args[1]) : 10_000;
        int backends = args.Length > 2 ? int.Parse(args[2]) : 10;
        var config = Config(services, backends);

        var fullSync = new List<double>();
        var oneChange = new List<double>();
        var oneService = new List<double>();
        // A first round warms the JIT up; the agent runs long enough that steady state is what counts.
        for (int round = -1; round < Rounds; round++)
        {
            using var program = XdpLbProgram.Load(config.Limits);
            var dataplane = new XdpDataplane(program);
            var sw = Stopwatch.StartNew();
            dataplane.Apply(config);
            double full = sw.Elapsed.TotalSeconds;
            var changes = new List<double>();
            var singles = new List<double>();
            for (int change = 0; change < 20; change++)
            {
                var changed = config.Services.ToList();
                int k = ((round + 1) * 20 + change) * 37 % services;
                changed[k] = changed[k] with { Backends = [.. changed[k].Backends, new Backend(new IPAddress(new byte[] { 10, 250, (byte)change, (byte)(round + 1) }), 8080)] };
                sw.Restart();
                dataplane.Apply(config with { Services = changed });
                changes.Add(sw.Elapsed.TotalMilliseconds);
                // The same kind of change handed over as one service, as a watch of one object gives it.
                var single = changed[(k + 1) % services];
                single = single with { Backends = [.. single.Backends, new Backend(new IPAddress(new byte[] { 10, 251, (byte)change, (byte)(round + 1) }), 8080)] };
                sw.Restart();
                dataplane.ApplyService(single);
                singles.Add(sw.Elapsed.TotalMilliseconds);
            }
            if (round < 0)
                continue;
            fullSync.Add(full);
            oneChange.AddRange(changes);
            oneService.AddRange(singles);
        }

        double rssMb = AgentRss(agent, config);
        var iptables = new List<(string Tool, double Seconds)>();
        string rules = KubeProxyRules(config);
        foreach (var tool in new[] { "iptables-legacy-restore", "iptables-nft-restore" })
            if (OnPath(tool))
                iptables.Add((tool, Median(Enumerable.Range(0, Rounds).Select(_ => IptablesRestore(tool, rules)))));

        Console.WriteLine($"control plane, {services:N0} services x {backends} backends; medians of {Rounds} rounds after a warm-up round (one change: of {Rounds * 20})");
        Console.WriteLine();
        Console.WriteLine("| what | time | goal |");
        Console.WriteLine("|---|---:|---:|");
        Console.WriteLine($"| xdplb full sync from empty | {Median(fullSync):F3} s | ≤ 0.3 s |");
        Console.WriteLine($"| xdplb one backend change through a full reconcile of the config | {Median(oneChange):F2} ms | ≤ 1 ms |");
        Console.WriteLine($"| xdplb one backend change handed over as one service (ApplyService) | {Median(oneService):F2} ms | ≤ 1 ms |");
        Console.WriteLine($"| xdplb agent RSS serving the config | {rssMb:F0} MB | ≤ 150 MB |");
        foreach (var (tool, seconds) in iptables)
            Console.WriteLine($"| {tool} of the kube-proxy rule set ({rules.Count(c => c == '\n'):N0} lines) | {seconds:F3} s | |");
        if (iptables.Count > 0)
            Console.WriteLine($"| ratio: fastest iptables-restore / xdplb full sync | {iptables.Min(t => t.Seconds) / Median(fullSync):F1}x | |");
        return 0;
    }

    internal static LbConfig Config(int services, int backends) => new()
    {
        Limits = new Limits((uint)services + 16, (uint)(services * (backends + 1) + 64), 100_000),
        Services = Enumerable.Range(0, services).Select(i => new Service
        {
            Name = $"svc{i}",
            Address = new IPAddress(new byte[] { 10, 100, (byte)(i >> 8), (byte)i }),
            Port = 80,
            Backends = Enumerable.Range(0, backends).Select(b =>
                new Backend(new IPAddress(new byte[] { 10, (byte)(200 + b), (byte)(i >> 8), (byte)i }), 8080)).ToList(),
        }).ToList(),
    };

    private static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted[sorted.Count / 2];
    }

    private static bool OnPath(string tool) =>
        (Environment.GetEnvironmentVariable("PATH") + ":/usr/sbin:/sbin").Split(':').Any(d => File.Exists(Path.Combine(d, tool)));

    /// <summary>The nat table kube-proxy's iptables mode writes for these services (all of one protocol: tcp or udp).</summary>
    internal static string KubeProxyRules(LbConfig config, string proto = "tcp")
    {
        var sb = new StringBuilder("*nat\n:PREROUTING ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:KUBE-SERVICES - [0:0]\n:KUBE-MARK-MASQ - [0:0]\n");
        for (int i = 0; i < config.Services.Count; i++)
        {
            sb.Append(":KUBE-SVC-").Append(i.ToString("X12")).Append(" - [0:0]\n");
            for (int b = 0; b < config.Services[i].Backends.Count; b++)
                sb.Append(":KUBE-SEP-").Append(i.ToString("X8")).Append(b.ToString("X4")).Append(" - [0:0]\n");
        }
        sb.Append("-A PREROUTING -m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES\n");
        sb.Append("-A OUTPUT -m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES\n");
        sb.Append("-A KUBE-MARK-MASQ -j MARK --set-xmark 0x4000/0x4000\n");
        for (int i = 0; i < config.Services.Count; i++)
        {
            var s = config.Services[i];
            string svc = "KUBE-SVC-" + i.ToString("X12");
            sb.Append($"-A KUBE-SERVICES -d {s.Address}/32 -p {proto} -m comment --comment \"default/{s.Name}:http cluster IP\" -m {proto} --dport {s.Port} -j {svc}\n");
            int n = s.Backends.Count;
            for (int b = 0; b < n; b++)
            {
                string sep = "KUBE-SEP-" + i.ToString("X8") + b.ToString("X4");
                string pick = b < n - 1 ? $"-m statistic --mode random --probability {1.0 / (n - b):F11} " : "";
                sb.Append($"-A {svc} -m comment --comment \"default/{s.Name}:http -> {s.Backends[b].Address}:8080\" {pick}-j {sep}\n");
                sb.Append($"-A {sep} -s {s.Backends[b].Address}/32 -m comment --comment \"default/{s.Name}:http\" -j KUBE-MARK-MASQ\n");
                sb.Append($"-A {sep} -p {proto} -m comment --comment \"default/{s.Name}:http\" -m {proto} -j DNAT --to-destination {s.Backends[b].Address}:8080\n");
            }
        }
        sb.Append("COMMIT\n");
        return sb.ToString();
    }

    private static double IptablesRestore(string tool, string rules)
    {
        string ns = "xbench" + Environment.ProcessId;
        Run("ip", "netns", "add", ns);
        try
        {
            var psi = new ProcessStartInfo("ip") { RedirectStandardInput = true, RedirectStandardError = true };
            foreach (var a in new[] { "netns", "exec", ns, tool })
                psi.ArgumentList.Add(a);
            var sw = Stopwatch.StartNew();
            using var p = Process.Start(psi)!;
            p.StandardInput.Write(rules);
            p.StandardInput.Close();
            string err = p.StandardError.ReadToEnd();
            p.WaitForExit();
            if (p.ExitCode != 0)
                throw new InvalidOperationException($"{tool} failed: {err}");
            return sw.Elapsed.TotalSeconds;
        }
        finally
        {
            Run("ip", "netns", "del", ns);
        }
    }

    /// <summary>The agent's config file for these services.</summary>
    internal static string AgentYaml(LbConfig config)
    {
        var sb = new StringBuilder($"limits: {{services: {config.Limits.Services}, backends: {config.Limits.Backends}, connections: {config.Limits.Connections}}}\nservices:\n");
        foreach (var s in config.Services)
            sb.Append($"  - {{address: {s.Address}, port: {s.Port}, protocol: {s.Protocol.ToString().ToLowerInvariant()}, backends: [{string.Join(", ", s.Backends.Select(b => $"{{address: {b.Address}, port: {b.Port}}}"))}]}}\n");
        return sb.ToString();
    }

    /// <summary>Starts the real agent on a veth in a scratch netns with the config, reads its RSS once it is ready.</summary>
    private static double AgentRss(string agent, LbConfig config)
    {
        string ns = "xrss" + Environment.ProcessId;
        string dir = Directory.CreateTempSubdirectory("xdplb-bench-").FullName;
        string yaml = Path.Combine(dir, "config.yaml");
        File.WriteAllText(yaml, AgentYaml(config));
        Directory.CreateDirectory(Path.Combine(dir, "bpf"));
        Run("mount", "-t", "bpf", "bpf", Path.Combine(dir, "bpf"));
        Run("ip", "netns", "add", ns);
        Run("ip", "-n", ns, "link", "add", "v0", "type", "veth", "peer", "name", "v1");
        Run("ip", "-n", ns, "link", "set", "v0", "up");
        Process? p = null;
        try
        {
            var psi = new ProcessStartInfo("ip") { RedirectStandardError = true, RedirectStandardOutput = true };
            foreach (var a in new[] { "netns", "exec", ns, agent, "run", "--config", yaml, "--interface", "v0", "--bpf-pin-dir", Path.Combine(dir, "bpf"),
                         "--state-dir", Path.Combine(dir, "state"), "--api-socket", Path.Combine(dir, "api.sock"), "--detach-on-exit" })
                psi.ArgumentList.Add(a);
            p = Process.Start(psi)!;
            var ready = new TaskCompletionSource();
            p.ErrorDataReceived += (_, e) => { if (e.Data?.Contains("msg=ready") == true) ready.TrySetResult(); };
            p.BeginErrorReadLine();
            if (!ready.Task.Wait(TimeSpan.FromSeconds(120)))
                throw new TimeoutException("the agent did not become ready");
            Thread.Sleep(2000);
            string status = File.ReadAllText($"/proc/{p.Id}/status");
            long kb = long.Parse(status.Split('\n').First(l => l.StartsWith("VmRSS:")).Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]);
            return kb / 1024.0;
        }
        finally
        {
            if (p is not null && !p.HasExited)
            {
                Tmds.Linux.LibC.kill(p.Id, Tmds.Linux.LibC.SIGTERM);
                p.WaitForExit(30_000);
            }
            Run("ip", "netns", "del", ns);
            Run("umount", "-l", Path.Combine(dir, "bpf"));
            Directory.Delete(dir, recursive: true);
        }
    }

    private static void Run(string file, params string[] args)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardError = true };
        foreach (var a in args)
            psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        p.WaitForExit();
    }
}
