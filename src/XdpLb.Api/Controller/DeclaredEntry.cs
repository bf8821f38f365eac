using XdpLb.Core.Model;

namespace XdpLb.Api.Controller;

/// <summary>One service in the store: what it is, who owns it, and how many times it changed.</summary>
public sealed record DeclaredEntry(Service Service, string Owner, ulong Generation)
{
    public ServiceKey Key => Service.Key!;
}
