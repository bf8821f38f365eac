using System.Diagnostics;

namespace XdpLb.Integration.Tests;

/// <summary>
/// The agent as released before the connection table's layout changed (preallocated table,
/// tags and the sweep index), built from this repository's history, so that an upgrade is
/// tested against the real previous version. Built once per machine and cached.
/// </summary>
internal static class PreviousAgent
{
    /// <summary>The last commit whose maps have the previous layout.</summary>
    public const string Commit = "95007d7";

    private static readonly Lazy<string> Built = new(Build);

    public static string Binary => Built.Value;

    private static string Build()
    {
        string root = Path.Combine("/var/cache/xdplb-previous", Commit);
        string binary = Path.Combine(root, "bin", "xdplb");
        if (File.Exists(binary))
            return binary;
        if (Directory.Exists(root))
            Directory.Delete(root, recursive: true);
        Directory.CreateDirectory(root);
        // An export of the commit, not a worktree: nothing is added to the repository.
        Run("bash", "-c", $"git -C {Repo.Root} archive {Commit} | tar -x -C {root}");
        Run("make", "-C", root, "agent");
        return binary;
    }

    private static void Run(string file, params string[] args)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args)
            psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        string stderr = p.StandardError.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0)
            throw new InvalidOperationException($"building the previous agent ({file} {string.Join(' ', args)}) exited {p.ExitCode}:\n{stdout.Result}\n{stderr}");
    }
}
