using System.Diagnostics;

namespace XdpLb.Ipvs;

/// <summary>
/// `ip`, `nft`, `conntrack` and sysctl writes, the host settings around IPVS. A failed
/// command is an exception quoting the command and what it printed.
/// </summary>
public class HostCommands
{
    public virtual string Run(string file, params string[] args) => Run(file, args, stdin: null);

    public virtual string Run(string file, IReadOnlyList<string> args, string? stdin)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = stdin is not null };
        foreach (var a in args)
            psi.ArgumentList.Add(a);
        using var p = Process.Start(psi) ?? throw new InvalidOperationException($"cannot start {file}");
        if (stdin is not null)
        {
            p.StandardInput.Write(stdin);
            p.StandardInput.Close();
        }
        var stdout = p.StandardOutput.ReadToEndAsync();
        string stderr = p.StandardError.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0)
            throw new InvalidOperationException($"{file} {string.Join(' ', args)} exited {p.ExitCode}: {stderr.Trim()}");
        return stdout.Result;
    }

    /// <summary>The tool's path on PATH (or in /usr/sbin, /sbin, where root's tools live), null when it is not installed.</summary>
    public virtual string? Find(string tool) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Append("/usr/sbin").Append("/sbin")
            .Select(dir => Path.Combine(dir, tool))
            .FirstOrDefault(File.Exists);

    /// <summary>
    /// Writes a sysctl unless it already has the value: in a pod /proc/sys is read-only, and
    /// the DaemonSet's privileged init container has set them (deploy/03-daemonset.yaml).
    /// </summary>
    public virtual void WriteSysctl(string name, string value)
    {
        string path = "/proc/sys/" + name.Replace('.', '/');
        if (File.Exists(path) && File.ReadAllText(path).Trim() == value)
            return;
        File.WriteAllText(path, value);
    }
}
