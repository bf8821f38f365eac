using System.Diagnostics;

namespace XdpLb.Integration.Tests;

/// <summary>A long-running command whose output lines are kept, to wait on them; killed on dispose if still running.</summary>
public sealed class BackgroundProcess : IDisposable
{
    private readonly Process process;
    private readonly List<string> lines = [];

    private BackgroundProcess(Process process)
    {
        this.process = process;
        process.OutputDataReceived += (_, e) => OnLine(e.Data);
        process.ErrorDataReceived += (_, e) => OnLine(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public static BackgroundProcess Start(string file, params string[] args)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args)
            psi.ArgumentList.Add(a);
        return new BackgroundProcess(Process.Start(psi) ?? throw new InvalidOperationException($"cannot start {file}"));
    }

    public int Pid => process.Id;

    public IReadOnlyList<string> Lines
    {
        get
        {
            lock (lines)
                return lines.ToList();
        }
    }

    /// <summary>Waits until the output so far satisfies <paramref name="seen"/>; fails with the output if it exits or 30 s pass first.</summary>
    public void WaitFor(Func<IReadOnlyList<string>, bool> seen, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!seen(Lines))
        {
            if (DateTime.UtcNow > deadline || process.HasExited)
                throw new InvalidOperationException($"{what}: not in the output (exited: {process.HasExited}):\n{string.Join('\n', Lines)}");
            Thread.Sleep(50);
        }
    }

    /// <summary>SIGTERM, then the exit status.</summary>
    public int Stop()
    {
        if (!process.HasExited)
            Tmds.Linux.LibC.kill(process.Id, Tmds.Linux.LibC.SIGTERM);
        if (!process.WaitForExit(TimeSpan.FromSeconds(30)))
            throw new TimeoutException($"did not stop within 30 s of SIGTERM:\n{string.Join('\n', Lines)}");
        process.WaitForExit();
        return process.ExitCode;
    }

    private void OnLine(string? line)
    {
        if (line is null)
            return;
        lock (lines)
            lines.Add(line);
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
