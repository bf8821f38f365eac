using System.Net;

namespace XdpLb.Core.Model;

/// <summary>A backend as the dataplanes' state files hold it (plain strings and numbers).</summary>
public sealed record BackendRecord(string Address, ushort Port, ushort Weight, bool Local);

/// <summary>A service as the dataplanes' state files hold it: every field, names as in the config.</summary>
public sealed record ServiceRecord(
    string? Name, string Address, ushort Port, string Protocol, string Scheduler, string[] Flags, uint Persistence,
    string Forwarding, bool NodePort, string ExternalTrafficPolicy, string[] SourceRanges, BackendRecord[] Backends,
    bool MasqueradeOutsideCluster = false)
{
    public static BackendRecord Of(Backend b) => new(b.Address.ToString(), b.Port, b.Weight, b.Local);

    public static ServiceRecord Of(Service s) => new(s.Name, s.Address!.ToString(), s.Port, Names.Of(s.Protocol), Names.Of(s.Scheduler),
        s.Flags.Select(Names.Of).ToArray(), s.Persistence, Names.Of(s.Forwarding), s.NodePort, Names.Of(s.ExternalTrafficPolicy),
        s.SourceRanges.ToArray(), s.Backends.Select(Of).ToArray(), s.MasqueradeOutsideCluster);

    public static Backend ToBackend(BackendRecord b) => new(IPAddress.Parse(b.Address), b.Port, b.Weight, b.Local);

    /// <summary>The service; a value that is not a known name is an InvalidDataException naming it.</summary>
    public Service ToService() => new()
    {
        Name = Name,
        Address = IPAddress.Parse(Address),
        Port = Port,
        Protocol = Parse<Protocol>(Protocol),
        Scheduler = Parse<Scheduler>(Scheduler),
        Flags = Flags.Select(Parse<SchedulerFlag>).ToList(),
        Persistence = Persistence,
        Forwarding = Parse<Forwarding>(Forwarding),
        NodePort = NodePort,
        ExternalTrafficPolicy = Parse<TrafficPolicy>(ExternalTrafficPolicy),
        SourceRanges = SourceRanges,
        MasqueradeOutsideCluster = MasqueradeOutsideCluster,
        Backends = Backends.Select(ToBackend).ToList(),
    };

    private static T Parse<T>(string text) where T : struct, Enum =>
        Names.TryParse<T>(text, out var value) ? value : throw new InvalidDataException($"state file: \"{text}\" is not a {typeof(T).Name}");
}
