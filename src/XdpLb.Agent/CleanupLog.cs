using Microsoft.Extensions.Logging;
using XdpLb.Core.Logging;
using XdpLb.Ipvs;

namespace XdpLb.Agent;

/// <summary>A cleanup's report as log lines, one per thing; the failures are kept for the summary and the exit status.</summary>
internal sealed class CleanupLog(ILogger log) : ICleanupReport
{
    private readonly List<string> failures = [];
    private int removed;

    public IReadOnlyList<string> Failures => failures;

    public void Removed(string what)
    {
        removed++;
        log.Info("removed", ("what", what));
    }

    public void Kept(string what, string why) => log.Info("kept", ("what", what), ("reason", why));

    public void Failed(string what, string error)
    {
        failures.Add(what);
        log.Error("could not remove", ("what", what), ("error", error));
    }

    public void Note(string message) => log.Info(message);

    /// <summary>The closing line, and on stderr the list of what is still there; the exit status.</summary>
    public int Finish(string what)
    {
        if (failures.Count == 0)
        {
            log.Info($"{what} done", ("removed", removed));
            return 0;
        }
        log.Error($"{what} incomplete", ("removed", removed), ("failed", failures.Count));
        Console.Error.WriteLine($"xdplb: {what}: could not remove {string.Join("; ", failures)}");
        return 1;
    }
}
