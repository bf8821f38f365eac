namespace XdpLb.Kubernetes.Watch;

/// <summary>Where the Kubernetes source reports what it does (the agent's logfmt log).</summary>
public interface ISourceLog
{
    void Info(string message, params (string Key, object? Value)[] fields);
    void Warn(string message, params (string Key, object? Value)[] fields);
}
