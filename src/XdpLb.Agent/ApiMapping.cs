using XdpLb.Api.V1;
using XdpLb.Core.Model;
using XdpLb.Core.Status;

namespace XdpLb.Agent;

/// <summary>Core's status records to the API's messages, and back for the CLI's text.</summary>
internal static class ApiMapping
{
    public static Counters ToApi(TrafficCounters c) => new()
    {
        Conns = c.Conns, InPackets = c.InPackets, OutPackets = c.OutPackets, InBytes = c.InBytes, OutBytes = c.OutBytes,
    };

    public static TrafficCounters FromApi(Counters? c) =>
        c is null ? new TrafficCounters() : new TrafficCounters(c.Conns, c.InPackets, c.OutPackets, c.InBytes, c.OutBytes);

    public static XdpLb.Api.V1.Service ToApi(VirtualServer s, string? name)
    {
        var service = new XdpLb.Api.V1.Service
        {
            Name = name ?? "",
            Protocol = Names.Of(s.Protocol),
            Address = s.Address.ToString(),
            Port = s.Port,
            Scheduler = Names.Of(s.Scheduler),
            Persistence = s.Persistence,
            Stats = ToApi(s.Stats),
            Rate = ToApi(s.Rate),
        };
        service.Flags.AddRange(s.Flags.Select(Names.Of));
        service.Backends.AddRange(s.RealServers.Select(d => new XdpLb.Api.V1.Backend
        {
            Address = d.Address.ToString(),
            Port = d.Port,
            Weight = d.Weight,
            Forwarding = d.Forwarding switch { Forwarding.Dr => "Route", Forwarding.Tun => "Tunnel", _ => "Masq" },
            ActiveConns = d.ActiveConns,
            InactiveConns = d.InactiveConns,
            Stats = ToApi(d.Stats),
            Rate = ToApi(d.Rate),
            Socket = d.Socket is null ? null : new XdpLb.Api.V1.SocketTranslations { Connects = d.Socket.Connects, Datagrams = d.Socket.Datagrams },
        }));
        return service;
    }

    public static VirtualServer FromApi(XdpLb.Api.V1.Service s) => new(
        Parse<Protocol>(s.Protocol), System.Net.IPAddress.Parse(s.Address), (ushort)s.Port, Parse<Scheduler>(s.Scheduler),
        s.Flags.Select(Parse<SchedulerFlag>).ToList(), s.Persistence,
        s.Backends.Select(d => new RealServer(System.Net.IPAddress.Parse(d.Address), (ushort)d.Port,
            d.Forwarding switch { "Route" => Forwarding.Dr, "Tunnel" => Forwarding.Tun, _ => Forwarding.Nat },
            (ushort)d.Weight, d.ActiveConns, d.InactiveConns, FromApi(d.Stats), FromApi(d.Rate),
            d.Socket is null ? null : new Core.Status.SocketTranslations(d.Socket.Connects, d.Socket.Datagrams))).ToList(),
        FromApi(s.Stats), FromApi(s.Rate));

    public static Connection ToApi(ConnectionEntry c) => new()
    {
        Protocol = Names.Of(c.Protocol),
        ExpiresSeconds = (uint)c.Expires.TotalSeconds,
        State = c.State,
        ClientAddress = c.Client.ToString(),
        ClientPort = c.ClientPort,
        VirtualAddress = c.Virtual.ToString(),
        VirtualPort = c.VirtualPort,
        BackendAddress = c.Destination.ToString(),
        BackendPort = c.DestinationPort,
    };

    public static ConnectionEntry FromApi(Connection c) => new(
        Parse<Protocol>(c.Protocol), TimeSpan.FromSeconds(c.ExpiresSeconds), c.State,
        System.Net.IPAddress.Parse(c.ClientAddress), (ushort)c.ClientPort,
        System.Net.IPAddress.Parse(c.VirtualAddress), (ushort)c.VirtualPort,
        System.Net.IPAddress.Parse(c.BackendAddress), (ushort)c.BackendPort);

    private static T Parse<T>(string text) where T : struct, Enum =>
        Names.TryParse<T>(text, out var value) ? value : throw new InvalidDataException($"the agent sent \"{text}\", not a {typeof(T).Name}");
}
