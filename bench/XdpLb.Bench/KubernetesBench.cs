using System.Globalization;
using XdpLb.Core.Model;

namespace XdpLb.Bench;

// The Kubernetes source against the config-file source, measured in the same run on the same
// SERVICES x BACKENDS (default 10,000 x 10), each served by the real agent (./bin/xdplb) in a
// scratch netns of its own:
//  - full sync: from the agent's start to its "full sync" log line (every service written into
//    fresh maps), the sync's own share, start to "ready", and the agent's RSS after it;
//  - change latency: one service's last backend taken away or put back (an EndpointSlice applied
//    in the fake API server; the file rewritten and renamed into place), from that moment to the
//    timestamp of the agent's "sync" line that wrote it into the maps. Changes arrive either
//    isolated (minSyncPeriod + 200 ms after the previous sync: no batching wait) or in a burst
//    (50 ms after the previous sync: they wait out the rest of the minSyncPeriod window).
// Three agent runs per source, the sources taking turns: minSyncPeriod 1 s (kube-proxy's default)
// and 100 ms with the changes, and 1 s again for the full sync only; full-sync figures are medians of the three.
// usage: XdpLb.Bench kubernetes AGENT [SERVICES] [BACKENDS]
internal static class KubernetesBench
{
    // kube-proxy reads minSyncPeriod 0 as "unset" (the 1 s default): 100 ms is the short window.
    private static readonly (string Text, TimeSpan Value, bool Changes)[] Runs =
        [("1s", TimeSpan.FromSeconds(1), true), ("100ms", TimeSpan.FromMilliseconds(100), true), ("1s", TimeSpan.FromSeconds(1), false)];

    private const int Changes = 16;
    private static readonly TimeSpan BurstGap = TimeSpan.FromMilliseconds(50);
    private static readonly TimeSpan IsolatedMargin = TimeSpan.FromMilliseconds(200);

    /// <summary>Latencies of changes (ms) and the seconds= of the sync line that wrote each (ms).</summary>
    private sealed record ChangeFigures(List<double> Latency, List<double> Sync);

    private sealed record RunFigures(double ToFullSync, double FullSyncItself, double ToReady, double RssMb, int Added,
        ChangeFigures Isolated, ChangeFigures Burst);

    public static int Run(string[] args)
    {
        string agent = args[0];
        int services = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 10_000;
        int backends = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 10;
        // The maps as the Kubernetes source sizes them (the default limits), for both sources.
        var config = ControlPlaneBench.Config(services, backends) with { Limits = new Limits() };

        var file = new List<RunFigures>();
        var kube = new List<RunFigures>();
        // Sources take turns, so that the machine's load is shared between them.
        foreach (var (run, (text, value, changes)) in Runs.Index())
        {
            file.Add(Measure(agent, config, value, changes, $"file-{run + 1}", node => new ConfigFileSource(node, config, text)));
            Console.Error.WriteLine($"config file, minSyncPeriod {text}: {Describe(file[^1])}");
            kube.Add(Measure(agent, config, value, changes, $"kubernetes-{run + 1}", node => new FakeClusterSource(node, config, text)));
            Console.Error.WriteLine($"kubernetes, minSyncPeriod {text}: {Describe(kube[^1])}");
        }

        Console.WriteLine($"kubernetes source, {services:N0} services x {backends} backends; full sync: medians of {Runs.Length} agent runs per source; " +
                          $"change latency: {Changes} changes per minSyncPeriod and pattern, median and p90");
        Console.WriteLine();
        Console.WriteLine("| what | config file (baseline) | Kubernetes (fake API server) | ratio Kubernetes / file |");
        Console.WriteLine("|---|---:|---:|---:|");
        Row("agent start → full sync applied", file, kube, f => f.ToFullSync, "F2", " s");
        Row("of which the sync itself", file, kube, f => f.FullSyncItself, "F2", " s");
        Row("agent start → ready", file, kube, f => f.ToReady, "F2", " s");
        Row("agent RSS after the sync", file, kube, f => f.RssMb, "F0", " MB");
        Console.WriteLine();
        Console.WriteLine("| minSyncPeriod | change arrives | config file median | p90 | its sync | Kubernetes median | p90 | its sync | ratio of medians |");
        Console.WriteLine("|---|---|---:|---:|---:|---:|---:|---:|---:|");
        for (int i = 0; i < Runs.Length; i++)
        {
            if (!Runs[i].Changes)
                continue;
            foreach (var (pattern, pick) in new (string, Func<RunFigures, ChangeFigures>)[]
                     { ($"isolated (+{IsolatedMargin.TotalMilliseconds:F0} ms)", f => f.Isolated), ($"{BurstGap.TotalMilliseconds:F0} ms after a sync", f => f.Burst) })
            {
                var f = pick(file[i]);
                var k = pick(kube[i]);
                Console.WriteLine($"| {Runs[i].Text} | {pattern} | {Percentile(f.Latency, 0.5):F0} ms | {Percentile(f.Latency, 0.9):F0} ms | {Percentile(f.Sync, 0.5):F0} ms | " +
                                  $"{Percentile(k.Latency, 0.5):F0} ms | {Percentile(k.Latency, 0.9):F0} ms | {Percentile(k.Sync, 0.5):F0} ms | " +
                                  $"{Percentile(k.Latency, 0.5) / Percentile(f.Latency, 0.5):F2}x |");
            }
        }
        return 0;
    }

    /// <summary>One agent run on a fresh node: its full sync and RSS, then the changes, isolated and in a burst.</summary>
    private static RunFigures Measure(string agentPath, LbConfig config, TimeSpan minSyncPeriod, bool changes, string name,
        Func<ScratchNode, IBenchSource> open)
    {
        using var node = new ScratchNode("xkbench" + Environment.ProcessId);
        using var source = open(node);
        using var agent = BenchAgent.Start(agentPath, node.Netns, [.. source.AgentArgs, .. node.AgentFlags]);
        var full = agent.WaitFor("full sync");
        var ready = agent.WaitFor("ready", full.Index);
        // As the control-plane bench: the RSS once the start's garbage has settled.
        Thread.Sleep(2000);
        double rss = agent.RssMb();
        int services = config.Services.Count;
        var isolated = (Figures: new ChangeFigures([], []), LastSync: ready.Time);
        var burst = isolated;
        if (changes)
        {
            isolated = Latencies(agent, source, ready.Time, minSyncPeriod + IsolatedMargin, 0, services);
            burst = Latencies(agent, source, isolated.LastSync, BurstGap, services / 2, services);
        }
        agent.Stop();
        if (Environment.GetEnvironmentVariable("BENCH_LOG_DIR") is { Length: > 0 } logs)
            agent.SaveLog(Path.Combine(logs, $"{name}.log"));
        return new RunFigures((full.Time - agent.Started).TotalSeconds, Seconds(full), (ready.Time - agent.Started).TotalSeconds, rss,
            int.Parse(full.Field("added") ?? "0", CultureInfo.InvariantCulture), isolated.Figures, burst.Figures);
    }

    /// <summary>
    /// <see cref="Changes"/> changes, each <paramref name="gap"/> after the previous sync line: a backend
    /// taken away, then put back, service after service (so the source ends as it began).
    /// </summary>
    private static (ChangeFigures Figures, DateTime LastSync) Latencies(BenchAgent agent, IBenchSource source, DateTime lastSync,
        TimeSpan gap, int firstService, int services)
    {
        var figures = new ChangeFigures([], []);
        for (int change = 0; change < Changes; change++)
        {
            int service = (firstService + change / 2 * 37) % services;
            var wait = lastSync + gap - DateTime.UtcNow;
            if (wait > TimeSpan.Zero)
                Thread.Sleep(wait);
            int from = agent.LineCount;
            var at = source.ChangeBackend(service, remove: change % 2 == 0);
            var sync = agent.WaitFor("sync", from, TimeSpan.FromSeconds(30));
            if (sync.Field("updated") != "1" || sync.Field("added") != "0" || sync.Field("removed") != "0")
                throw new InvalidOperationException($"the sync after changing service {service} was not that one change: {sync.Text}");
            figures.Latency.Add((sync.Time - at).TotalMilliseconds);
            figures.Sync.Add(Seconds(sync) * 1000);
            lastSync = sync.Time;
        }
        return (figures, lastSync);
    }

    private static double Seconds(AgentLogLine line) => double.Parse(line.Field("seconds") ?? "NaN", CultureInfo.InvariantCulture);

    private static string Describe(RunFigures f) =>
        $"full sync {f.ToFullSync:F2} s after start (the sync {f.FullSyncItself:F2} s, {f.Added} services), ready {f.ToReady:F2} s, RSS {f.RssMb:F0} MB; " +
        $"isolated changes {Join(f.Isolated.Latency)} ms (their syncs {Join(f.Isolated.Sync)} ms); " +
        $"burst {Join(f.Burst.Latency)} ms (their syncs {Join(f.Burst.Sync)} ms)";

    private static string Join(List<double> values) => string.Join(' ', values.Select(v => v.ToString("F0", CultureInfo.InvariantCulture)));

    private static void Row(string what, List<RunFigures> file, List<RunFigures> kube, Func<RunFigures, double> pick, string format, string unit)
    {
        double f = Percentile(file.Select(pick), 0.5);
        double k = Percentile(kube.Select(pick), 0.5);
        Console.WriteLine($"| {what} | {f.ToString(format, CultureInfo.InvariantCulture)}{unit} | {k.ToString(format, CultureInfo.InvariantCulture)}{unit} | {k / f:F2}x |");
    }

    /// <summary>The value below which the fraction <paramref name="p"/> of the values lie (nearest rank).</summary>
    private static double Percentile(IEnumerable<double> values, double p)
    {
        var sorted = values.Order().ToList();
        return sorted[Math.Max(0, (int)Math.Ceiling(p * sorted.Count) - 1)];
    }
}
