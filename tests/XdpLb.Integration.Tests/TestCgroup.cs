namespace XdpLb.Integration.Tests;

/// <summary>
/// A cgroup v2 subtree of one test: a root for the agent's --cgroup-root and a "client"
/// child to run processes in, so that the socket hooks see only this test's processes.
/// The hierarchy is mounted again under the test's own directory, in the host's mount
/// namespace, where an agent under `ip netns exec` (which hides /sys/fs/cgroup) finds it.
/// </summary>
public sealed class TestCgroup : IDisposable
{
    private readonly string mount;

    public TestCgroup()
    {
        mount = Directory.CreateTempSubdirectory("xdplb-cgroup-").FullName;
        Shell.Check("mount", "-t", "cgroup2", "none", mount);
        Root = Path.Combine(mount, "xdplb-test-" + Path.GetFileName(mount)[^6..]);
        Client = Path.Combine(Root, "client");
        Directory.CreateDirectory(Client);
    }

    /// <summary>The agent's --cgroup-root.</summary>
    public string Root { get; }

    /// <summary>A child of <see cref="Root"/>, as a pod's cgroup is of the node's.</summary>
    public string Client { get; }

    /// <summary>Runs a command in <paramref name="netns"/> as a process of the client cgroup.</summary>
    public ShellResult Run(string netns, params string[] command) => Shell.Run("sh", Argv(netns, command), TimeSpan.FromSeconds(60));

    /// <summary>sh's arguments that run a command in <paramref name="netns"/> as a process of the client cgroup (for one started in the background).</summary>
    public string[] Argv(string netns, params string[] command) =>
        ["-c", $"echo $$ > {Client}/cgroup.procs && exec ip netns exec {netns} \"$@\"", "sh", .. command];

    /// <summary>As <see cref="Run"/>, requiring exit status 0.</summary>
    public string Check(string netns, params string[] command)
    {
        var r = Run(netns, command);
        if (r.ExitCode != 0)
            throw new InvalidOperationException($"{string.Join(' ', command)} exited {r.ExitCode}: {r.Stderr}{r.Stdout}");
        return r.Stdout;
    }

    public void Dispose()
    {
        foreach (var dir in new[] { Client, Root })
        {
            // A cgroup with processes cannot go: whatever a test left running goes first.
            string procs = Path.Combine(dir, "cgroup.procs");
            if (File.Exists(procs))
                foreach (var pid in File.ReadAllLines(procs))
                    Shell.Run("kill", "-9", pid);
            for (int attempt = 0; attempt < 50 && Directory.Exists(dir); attempt++)
            {
                try
                {
                    Directory.Delete(dir);
                }
                catch (IOException)
                {
                    Thread.Sleep(100);
                }
            }
        }
        Shell.Run("umount", "-l", mount);
        Directory.Delete(mount);
    }
}
