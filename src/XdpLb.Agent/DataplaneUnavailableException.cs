namespace XdpLb.Agent;

/// <summary>No dataplane can run on this node: each one's reason is in the message.</summary>
internal sealed class DataplaneUnavailableException(string message) : Exception(message);
