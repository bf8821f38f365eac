namespace XdpLb.Integration.Tests;

/// <summary>What the agent serves, as `xdplb list -n` shows it over its API socket.</summary>
public static class AgentList
{
    public static string List(string apiSocket)
    {
        var r = Shell.Run(Repo.Agent, ["list", "-n", "--api-socket", apiSocket], TimeSpan.FromSeconds(30));
        Assert.True(r.ExitCode == 0, r.Stderr);
        return r.Stdout;
    }

    /// <summary>The services and their backends as `xdplb list -n` shows them, without the connection counts.</summary>
    public static string Servers(string apiSocket) => string.Join('\n', List(apiSocket).Split('\n').Skip(3)
        .Select(l => string.Join(' ', l.Split(' ', StringSplitOptions.RemoveEmptyEntries).Take(l.TrimStart().StartsWith("->") ? 4 : 3))));

    /// <summary>Polls `xdplb list` until the agent has synced the change (within minSyncPeriod).</summary>
    public static void WaitFor(string apiSocket, Func<string, bool> synced, AgentProcess agent)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        string list;
        while (!synced(list = List(apiSocket)))
        {
            if (DateTime.UtcNow > deadline)
                throw new InvalidOperationException($"not synced within 30 s:\n{list}\n{agent.Log}");
            Thread.Sleep(100);
        }
    }
}
