using System.Globalization;
using System.Net;
using XdpLb.Core.Model;
using XdpLb.Core.Status;

namespace XdpLb.Ipvs;

/// <summary>
/// The kernel's IPVS connection table as /proc/net/ip_vs_conn lists it (what `ipvsadm -Lnc`
/// reads; netlink has no call for it): hex addresses and ports, state, seconds to expiry.
/// </summary>
public static class IpvsConnections
{
    public const string ProcFile = "/proc/net/ip_vs_conn";

    public static List<ConnectionEntry> Read(string path = ProcFile) =>
        File.Exists(path) ? Parse(File.ReadAllText(path)) : [];

    /// <summary>
    /// "Pro FromIP FPrt ToIP TPrt DestIP DPrt State Expires PEName PEData", IPv4 addresses as
    /// 8 hex digits, IPv6 ones as written by %pI6 (colon-separated).
    /// </summary>
    public static List<ConnectionEntry> Parse(string text)
    {
        var entries = new List<ConnectionEntry>();
        foreach (var line in text.Split('\n').Skip(1))
        {
            var f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (f.Length < 9)
                continue;
            var protocol = f[0] switch { "TCP" => Protocol.Tcp, "UDP" => Protocol.Udp, "SCTP" => Protocol.Sctp, _ => (Protocol?)null };
            if (protocol is null || f[0] == "IP") // templates (persistence) show as IP
                continue;
            entries.Add(new ConnectionEntry(protocol.Value, TimeSpan.FromSeconds(int.Parse(f[8], CultureInfo.InvariantCulture)), f[7],
                Address(f[1]), Port(f[2]), Address(f[3]), Port(f[4]), Address(f[5]), Port(f[6])));
        }
        return entries;
    }

    private static IPAddress Address(string hex) => hex.Contains(':')
        ? IPAddress.Parse(hex)
        : new IPAddress(BitConverter.GetBytes(System.Buffers.Binary.BinaryPrimitives.ReverseEndianness(uint.Parse(hex, NumberStyles.HexNumber, CultureInfo.InvariantCulture))));

    private static ushort Port(string hex) => ushort.Parse(hex, NumberStyles.HexNumber, CultureInfo.InvariantCulture);
}
