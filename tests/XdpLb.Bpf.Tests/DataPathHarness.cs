using System.Net;
using XdpLb.Bpf.Maps;
using XdpLb.Bpf.Tests.Packets;
using XdpLb.Core.Model;

namespace XdpLb.Bpf.Tests;

/// <summary>
/// SETUP for BPF tests: a freshly loaded data path with small maps and a config applied,
/// then packets in (BPF_PROG_TEST_RUN) and packets and counters out.
/// </summary>
public sealed class DataPathHarness : IDisposable
{
    public static readonly IPAddress Client = IPAddress.Parse("10.0.1.2");
    public static readonly IPAddress Vip = IPAddress.Parse("10.96.0.10");
    public static readonly IPAddress[] BackendAddresses =
        [IPAddress.Parse("10.0.11.2"), IPAddress.Parse("10.0.12.2"), IPAddress.Parse("10.0.13.2")];

    /// <param name="mockFib">Load the test build whose FIB lookups answer what <see cref="MockFib"/> says.</param>
    public DataPathHarness(LbConfig config, bool mockFib = false)
    {
        Prerequisites.RequireRoot();
        Program = mockFib
            ? XdpLbProgram.Load(BpfObject.Embedded(typeof(DataPathHarness).Assembly, MockFib.ObjectResource), config.Limits)
            : XdpLbProgram.Load(config.Limits);
        Dataplane = new XdpDataplane(Program);
        Dataplane.Apply(config);
    }

    public XdpLbProgram Program { get; }
    public XdpDataplane Dataplane { get; }

    public static LbConfig Config(params Service[] services) =>
        new() { Limits = new Limits(Services: 64, Backends: 256, Connections: 1024), Services = services };

    public static Service WebService(Protocol protocol = Protocol.Tcp, params ushort[] weights)
    {
        weights = weights.Length == 0 ? [1, 1, 1] : weights;
        return new Service
        {
            Name = "web",
            Address = Vip,
            Port = 80,
            Protocol = protocol,
            Backends = BackendAddresses.Take(weights.Length).Select((a, i) => new Backend(a, 8080, weights[i])).ToList(),
        };
    }

    public TestRunResult Run(byte[] frame) => Program.Ingress.TestRun(frame);

    public (TestRunResult Result, ParsedPacket Packet) RunParsed(PacketBuilder packet)
    {
        var result = Run(packet.Build());
        return (result, ParsedPacket.Parse(result.Packet));
    }

    public ulong Counter(Counter c) => Program.ReadCounters()[c];

    /// <summary>What every FIB lookup of the mock-FIB build answers from now on.</summary>
    public void SetFib(MockFib answer) => Program.Object.Map<uint, MockFib>("mock_fib").Update(0, answer);

    /// <summary>The backend a new flow went to, or null when the service had none to give (dropped, or answered with ICMP).</summary>
    public static IPAddress? PickedBackend(TestRunResult result)
    {
        if (result.Action == XdpAction.Drop)
            return null;
        var frame = result.Packet;
        bool icmp = (frame[12], frame[13]) switch
        {
            (0x08, 0x00) => frame[14 + 9] == 1,
            (0x86, 0xdd) => frame[14 + 6] == 58,
            _ => false,
        };
        return icmp ? null : ParsedPacket.Parse(frame).Destination;
    }

    public void Dispose() => Program.Dispose();
}
