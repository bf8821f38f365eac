using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;

namespace XdpLb.Bench;

/// <summary>One line of the agent's logfmt log: its timestamp (ms), message and whole text.</summary>
internal sealed record AgentLogLine(int Index, DateTime Time, string Message, string Text)
{
    /// <summary>A key=value field of the line, unquoted.</summary>
    public string? Field(string key) =>
        Regex.Match(Text, $@"\b{key}=(""(?:[^""\\]|\\.)*""|\S+)") is { Success: true } m ? m.Groups[1].Value.Trim('"') : null;
}

/// <summary>
/// The real agent (`xdplb run ...`) in a network namespace, its stderr log kept line by line
/// so the bench can wait for a line and read the time the agent wrote it.
/// </summary>
internal sealed partial class BenchAgent : IDisposable
{
    private readonly Process process;
    private readonly List<AgentLogLine> lines = [];

    private BenchAgent(Process process, DateTime started)
    {
        this.process = process;
        Started = started;
    }

    /// <summary>The wall-clock time just before the agent's process was started.</summary>
    public DateTime Started { get; }

    public static BenchAgent Start(string agent, string netns, IEnumerable<string> args)
    {
        var psi = new ProcessStartInfo("ip") { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var a in new[] { "netns", "exec", netns, agent }.Concat(args))
            psi.ArgumentList.Add(a);
        var started = DateTime.UtcNow;
        var self = new BenchAgent(Process.Start(psi)!, started);
        self.process.ErrorDataReceived += (_, e) => self.Add(e.Data);
        self.process.OutputDataReceived += (_, _) => { };
        self.process.BeginErrorReadLine();
        self.process.BeginOutputReadLine();
        return self;
    }

    /// <summary>Lines received so far.</summary>
    public int LineCount
    {
        get
        {
            lock (lines)
                return lines.Count;
        }
    }

    /// <summary>The first line from index <paramref name="from"/> on with this message.</summary>
    public AgentLogLine WaitFor(string message, int from = 0, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(120));
        lock (lines)
        {
            while (true)
            {
                for (int i = from; i < lines.Count; i++)
                {
                    if (lines[i].Message == message)
                        return lines[i];
                }
                from = lines.Count;
                var left = deadline - DateTime.UtcNow;
                if (process.HasExited && left > TimeSpan.FromSeconds(1))
                    left = TimeSpan.FromSeconds(1); // the last lines may still be on their way
                if (left <= TimeSpan.Zero)
                    throw new TimeoutException($"no msg=\"{message}\" from the agent{(process.HasExited ? $" (it exited {process.ExitCode})" : "")}:\n{Tail()}");
                Monitor.Wait(lines, left);
            }
        }
    }

    /// <summary>The agent's resident set size now, in MB.</summary>
    public double RssMb()
    {
        // `ip netns exec` execs the agent: the process started is the agent.
        string status = File.ReadAllText($"/proc/{process.Id}/status");
        long kb = long.Parse(status.Split('\n').First(l => l.StartsWith("VmRSS:", StringComparison.Ordinal))
            .Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
        return kb / 1024.0;
    }

    /// <summary>SIGTERM, and the exit it leads to (killed after 30 s).</summary>
    public void Stop()
    {
        if (process.HasExited)
            return;
        Tmds.Linux.LibC.kill(process.Id, Tmds.Linux.LibC.SIGTERM);
        if (!process.WaitForExit(30_000))
        {
            process.Kill();
            process.WaitForExit();
        }
    }

    public void Dispose()
    {
        Stop();
        process.Dispose();
    }

    private void Add(string? text)
    {
        if (text is null)
            return;
        var m = LinePattern().Match(text);
        if (!m.Success)
            return;
        var time = DateTime.ParseExact(m.Groups[1].Value, "yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture,
            DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal);
        lock (lines)
        {
            lines.Add(new AgentLogLine(lines.Count, time, m.Groups[2].Value.Trim('"'), text));
            Monitor.PulseAll(lines);
        }
    }

    /// <summary>Writes the log received so far to a file (BENCH_LOG_DIR keeps each run's).</summary>
    public void SaveLog(string file)
    {
        lock (lines)
            File.WriteAllLines(file, lines.Select(l => l.Text));
    }

    private string Tail()
    {
        lock (lines)
            return string.Join('\n', lines.TakeLast(20).Select(l => l.Text));
    }

    [GeneratedRegex(@"^ts=(\S+) level=\S+ msg=(""(?:[^""\\]|\\.)*""|\S+)")]
    private static partial Regex LinePattern();
}
