using Microsoft.Extensions.Logging;
using XdpLb.Core.Logging;
using XdpLb.Api.Controller;
using XdpLb.Bpf;
using XdpLb.Core.Model;

namespace XdpLb.Agent;

/// <summary>
/// The desired state: the agent's source (config file or Kubernetes) plus the services
/// declared over the API. A key both hold is a conflict reported to the second one: the
/// source's service on a key the API already holds is left out and logged (the API refuses
/// keys the source holds). API writes ask for a reload, as a change of the source does.
/// </summary>
internal sealed class CompositeStateSource : IDesiredStateSource
{
    private readonly IDesiredStateSource source;
    private readonly DeclaredServices declared;
    private HashSet<string> reported = [];
    // The source's last valid state, and API writes counted: an invalid config file must not
    // hold back an API write, so a write since the last load is applied over the last valid file.
    private LbConfig? lastValid;
    private long writes;
    private long writesLoaded;

    private readonly ILogger log;

    public CompositeStateSource(IDesiredStateSource source, DeclaredServices declared, ILogger log)
    {
        this.log = log;
        this.source = source;
        this.declared = declared;
        declared.Changed += () => Interlocked.Increment(ref writes);
    }

    /// <summary>The config file's or Kubernetes' source, whose kind decides how the agent runs.</summary>
    public IDesiredStateSource Base => source;

    public DeclaredServices Declared => declared;

    public string Description => source.Description;

    private string Owner => source is KubernetesStateSource ? DeclaredServices.KubernetesOwner : DeclaredServices.ConfigOwner;

    public LbConfig Load(string dataplane)
    {
        long writesNow = Interlocked.Read(ref writes);
        LbConfig config;
        try
        {
            config = source.Load(dataplane);
        }
        catch (Core.Config.ConfigException e) when (lastValid is not null && writesNow != writesLoaded)
        {
            log.Error("config reload refused, the running config stays; the API's changes are applied", ("errors", string.Join("; ", e.Errors)));
            config = lastValid;
        }
        // The maps are sized once: the running limits are those of the first load.
        if (lastValid is null)
            declared.Limits = StoreLimits.Of(config.Limits);
        lastValid = config;
        writesLoaded = writesNow;
        declared.DataplaneChecks = dataplane == "xdp"
            ? s => XdpDataplaneSupport.Unsupported(new LbConfig { Services = [s] })
            : _ => [];
        var kept = declared.SetSource(Owner, config.Services, out var conflicts);
        foreach (var conflict in conflicts.Where(c => !reported.Contains(c)))
            log.Warn("service of the source left out: reported to the second one", ("source", source.Description), ("conflict", conflict));
        reported = conflicts.ToHashSet();
        return config with { Services = [.. kept, .. declared.Declared()] };
    }

    public void Watch(Action changed)
    {
        source.Watch(changed);
        declared.Changed += changed;
    }

    public void AfterSync(bool succeeded) => source.AfterSync(succeeded);

    public void Dispose() => source.Dispose();
}
