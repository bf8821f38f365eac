using System.Diagnostics;
using System.Text;

namespace XdpLb.Integration.Tests;

/// <summary>The real `xdplb run`, started inside a network namespace; its log is kept for failure messages.</summary>
public sealed class AgentProcess : IDisposable
{
    private readonly Process process;
    private readonly StringBuilder log = new();
    private readonly TaskCompletionSource ready = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private AgentProcess(Process process)
    {
        this.process = process;
        process.ErrorDataReceived += (_, e) => OnLine(e.Data);
        process.OutputDataReceived += (_, e) => OnLine(e.Data);
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
    }

    public int Pid => process.Id;

    public string Log
    {
        get
        {
            lock (log)
                return log.ToString();
        }
    }

    /// <summary>Starts the agent and waits for its "ready" line; fails with its log if it exits first.</summary>
    public static AgentProcess Start(string netns, params string[] args) => StartWrapped(netns, [], args);

    /// <summary>As Start, the agent run by a wrapper command (e.g. capsh dropping capabilities, ending in "-c").</summary>
    public static AgentProcess StartWrapped(string netns, string[] wrapper, params string[] args) =>
        StartBinary(Repo.Agent, netns, wrapper, args);

    /// <summary>As StartWrapped, with another build of the agent (an upgrade's previous version).</summary>
    public static AgentProcess StartBinary(string binary, string netns, string[] wrapper, params string[] args)
    {
        var psi = new ProcessStartInfo("ip") { RedirectStandardError = true, RedirectStandardOutput = true };
        string[] command = wrapper.Length == 0
            ? [binary, .. args]
            : [.. wrapper, string.Join(' ', new[] { binary }.Concat(args))];
        foreach (var a in new[] { "netns", "exec", netns }.Concat(command))
            psi.ArgumentList.Add(a);
        var agent = new AgentProcess(Process.Start(psi)!);
        var exited = agent.process.WaitForExitAsync();
        // 120 s: in the VM layer (qemu without acceleration) verifying the XDP object, zeroing
        // the default preallocated connection table (460 MB) and the first sync took up to 60.
        var first = Task.WaitAny([agent.ready.Task, exited], TimeSpan.FromSeconds(120));
        if (first != 0)
        {
            string why = first == 1 ? $"exited with {agent.process.ExitCode}" : "did not become ready in 120 s";
            agent.Dispose();
            throw new InvalidOperationException($"xdplb {why}:\n{agent.Log}");
        }
        return agent;
    }

    /// <summary>SIGHUP, then waits for the agent to report the reload.</summary>
    public void Reload()
    {
        int before = CountLines("msg=\"config reloaded\"");
        Tmds.Linux.LibC.kill(process.Id, Tmds.Linux.LibC.SIGHUP);
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (CountLines("msg=\"config reloaded\"") == before)
        {
            if (DateTime.UtcNow > deadline || process.HasExited)
                throw new InvalidOperationException($"xdplb did not reload within 30 s of SIGHUP:\n{Log}");
            Thread.Sleep(50);
        }
    }

    private int CountLines(string text) => Log.Split('\n').Count(l => l.Contains(text, StringComparison.Ordinal));

    /// <summary>SIGTERM, then the exit status.</summary>
    public int Stop()
    {
        if (!process.HasExited)
        {
            Tmds.Linux.LibC.kill(process.Id, Tmds.Linux.LibC.SIGTERM);
            if (!process.WaitForExit(TimeSpan.FromSeconds(30)))
                throw new TimeoutException($"xdplb did not stop within 30 s of SIGTERM:\n{Log}");
        }
        process.WaitForExit();
        return process.ExitCode;
    }

    private void OnLine(string? line)
    {
        if (line is null)
            return;
        lock (log)
            log.AppendLine(line);
        if (line.Contains("msg=ready", StringComparison.Ordinal))
            ready.TrySetResult();
    }

    public void Dispose()
    {
        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
        }
        process.Dispose();
    }
}
