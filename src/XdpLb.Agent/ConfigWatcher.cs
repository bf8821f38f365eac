namespace XdpLb.Agent;

/// <summary>Calls back when the config file is written, replaced or renamed into place.</summary>
internal sealed class ConfigWatcher : IDisposable
{
    private readonly FileSystemWatcher watcher;

    public ConfigWatcher(string configFile, Action changed)
    {
        string full = Path.GetFullPath(configFile);
        watcher = new FileSystemWatcher(Path.GetDirectoryName(full)!, Path.GetFileName(full))
        {
            NotifyFilter = NotifyFilters.LastWrite | NotifyFilters.FileName | NotifyFilters.Size | NotifyFilters.CreationTime,
        };
        FileSystemEventHandler handler = (_, _) => changed();
        watcher.Changed += handler;
        watcher.Created += handler;
        watcher.Renamed += (_, _) => changed();
        watcher.EnableRaisingEvents = true;
    }

    public void Dispose() => watcher.Dispose();
}
