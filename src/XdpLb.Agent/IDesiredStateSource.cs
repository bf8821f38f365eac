using XdpLb.Core.Model;

namespace XdpLb.Agent;

/// <summary>Where the desired state comes from: the config file, or Kubernetes.</summary>
internal interface IDesiredStateSource : IDisposable
{
    /// <summary>How status and logs name it: the config file's path, or "kubernetes".</summary>
    string Description { get; }

    /// <summary>The desired state now; a ConfigException when it is invalid as a whole (the running state then stays).</summary>
    LbConfig Load(string dataplane);

    /// <summary>Calls back when the desired state may have changed.</summary>
    void Watch(Action changed);

    /// <summary>After each sync, with whether it applied everything.</summary>
    void AfterSync(bool succeeded);
}
