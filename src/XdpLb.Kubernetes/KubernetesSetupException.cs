namespace XdpLb.Kubernetes;

/// <summary>The API server cannot be reached as configured (no in-cluster config, a kubeconfig that is wrong).</summary>
public sealed class KubernetesSetupException(string message, Exception? inner = null) : Exception(message, inner);
