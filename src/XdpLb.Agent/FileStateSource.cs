using XdpLb.Core.Model;

namespace XdpLb.Agent;

/// <summary>The YAML config file, re-read when it is written or renamed into place.</summary>
internal sealed class FileStateSource(string path) : IDesiredStateSource
{
    private ConfigWatcher? watcher;

    public string Description => path;

    public LbConfig Load(string dataplane) => ConfigFile.Read(path, checkXdpSupport: dataplane == "xdp");

    public void Watch(Action changed) => watcher = new ConfigWatcher(path, changed);

    public void AfterSync(bool succeeded)
    {
    }

    public void Dispose() => watcher?.Dispose();
}
