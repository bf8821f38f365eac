using XdpLb.Core.Model;

namespace XdpLb.Bench;

/// <summary>The baseline: the services in a config file, a change being the whole file rewritten and renamed into place.</summary>
internal sealed class ConfigFileSource : IBenchSource
{
    private readonly string path;
    private readonly string header;
    private readonly LbConfig config;
    private readonly List<Service> services;

    public ConfigFileSource(ScratchNode node, LbConfig config, string minSyncPeriod)
    {
        path = node.File("config.yaml");
        this.config = config;
        services = config.Services.ToList();
        // syncPeriod out of the way: a periodic full resync would land in the latency figures.
        header = $"sync: {{minSyncPeriod: {minSyncPeriod}, syncPeriod: 1h}}\n";
        File.WriteAllText(path, header + ControlPlaneBench.AgentYaml(config));
    }

    public string[] AgentArgs => ["run", "--config", path];

    public DateTime ChangeBackend(int service, bool remove)
    {
        var original = config.Services[service];
        services[service] = remove ? original with { Backends = original.Backends.SkipLast(1).ToList() } : original;
        string next = path + ".next";
        File.WriteAllText(next, header + ControlPlaneBench.AgentYaml(config with { Services = services }));
        var now = DateTime.UtcNow;
        File.Move(next, path, overwrite: true);
        return now;
    }

    public void Dispose()
    {
        // the file goes with the node's directory
    }
}
