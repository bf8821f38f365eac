using System.Diagnostics;

namespace XdpLb.Integration.Tests;

public sealed record ShellResult(int ExitCode, string Stdout, string Stderr);

/// <summary>Runs helper commands (ip, curl, the topology script) and fails loudly when one is missing.</summary>
public static class Shell
{
    private static readonly string[] RequiredTools = ["ip", "curl", "busybox", "ethtool", "bpftool"];

    public static void RequirePrerequisites()
    {
        if (Tmds.Linux.LibC.geteuid() != 0)
            throw new InvalidOperationException("integration tests create network namespaces and must run as root (sudo make test)");
        foreach (var tool in RequiredTools)
            if (!OnPath(tool))
                throw new InvalidOperationException($"{tool} is not installed: run make setup");
    }

    public static ShellResult Run(string file, params string[] args) => Run(file, args, TimeSpan.FromSeconds(60));

    public static ShellResult Run(string file, IEnumerable<string> args, TimeSpan timeout)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args)
            psi.ArgumentList.Add(a);
        using var p = Process.Start(psi) ?? throw new InvalidOperationException($"cannot start {file}");
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(timeout))
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException($"{file} {string.Join(' ', args)} did not finish within {timeout.TotalSeconds}s");
        }
        return new ShellResult(p.ExitCode, stdout.Result, stderr.Result);
    }

    /// <summary>Runs and requires exit status 0.</summary>
    public static string Check(string file, params string[] args)
    {
        var r = Run(file, args);
        if (r.ExitCode != 0)
            throw new InvalidOperationException($"{file} {string.Join(' ', args)} exited {r.ExitCode}: {r.Stderr}{r.Stdout}");
        return r.Stdout;
    }

    private static bool OnPath(string tool) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':')
            .Append("/usr/sbin").Append("/sbin")
            .Any(dir => File.Exists(Path.Combine(dir, tool)));
}
