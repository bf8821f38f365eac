using XdpLb.Core.Model;

namespace XdpLb.Core.Reconcile;

/// <summary>Equality of services by content: records compare their lists by reference.</summary>
public static class ServiceComparer
{
    // The same object is the common case on a reload: the Kubernetes source's cache hands back the service it translated before.
    public static bool SameContent(Service a, Service b) => ReferenceEquals(a, b) ||
        a.Name == b.Name &&
        Equals(a.Address, b.Address) &&
        a.Port == b.Port &&
        a.Protocol == b.Protocol &&
        a.Scheduler == b.Scheduler &&
        a.Flags.SequenceEqual(b.Flags) &&
        a.Persistence == b.Persistence &&
        a.Forwarding == b.Forwarding &&
        a.NodePort == b.NodePort &&
        a.ExternalTrafficPolicy == b.ExternalTrafficPolicy &&
        a.SourceRanges.SequenceEqual(b.SourceRanges) &&
        a.MasqueradeOutsideCluster == b.MasqueradeOutsideCluster &&
        a.Backends.SequenceEqual(b.Backends);
}
