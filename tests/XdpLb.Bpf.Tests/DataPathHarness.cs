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

    /// <param name="mockFib">
    /// Load the test build whose FIB lookups answer what <see cref="MockFib"/> says, starting
    /// with <see cref="MockFib.DefaultRoute"/>. Without it the host's own FIB decides, so a
    /// forwarded packet's verdict is whatever this machine's routes make of it.
    /// </param>
    public DataPathHarness(LbConfig config, bool mockFib = false)
    {
        Prerequisites.RequireRoot();
        Program = mockFib
            ? XdpLbProgram.Load(BpfObject.Embedded(typeof(DataPathHarness).Assembly, MockFib.ObjectResource), config.Limits)
            : XdpLbProgram.Load(config.Limits);
        Dataplane = new XdpDataplane(Program);
        Dataplane.Apply(config);
        if (mockFib)
            SetFib(MockFib.DefaultRoute);
    }

    public XdpLbProgram Program { get; }
    public XdpDataplane Dataplane { get; }

    /// <summary>The mock FIB's answer; null when the host's FIB decides.</summary>
    public MockFib? Fib { get; private set; }

    private MockFib MockedFib => Fib ?? throw new InvalidOperationException("this needs a harness with mockFib: true");

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

    public ulong Counter(Counter c) => Program.ReadCounters()[c];

    /// <summary>What every FIB lookup of the mock-FIB build answers from now on.</summary>
    public void SetFib(MockFib answer)
    {
        Program.Object.Map<uint, MockFib>("mock_fib").Update(0, answer);
        Fib = answer;
    }

    /// <summary>
    /// The frame the data path sends for <paramref name="rewritten"/> (the packet as it is
    /// once translated) by the mock's route: the route's MACs, one hop less. Built from
    /// scratch, so its checksums check the data path's incremental ones.
    /// </summary>
    public PacketBuilder Routed(PacketBuilder rewritten)
    {
        var fib = MockedFib;
        return fib.Rc != MockFib.Success ? rewritten
            : rewritten with { SourceMac = fib.SourceMac, DestMac = fib.DestMac, Ttl = (byte)(rewritten.Ttl - 1) };
    }

    /// <summary>
    /// Runs a packet the data path forwards (nat or dr, new flow or known): asserts the
    /// verdict the mock's route gives, the route's MACs and one hop less; the frame out.
    /// </summary>
    public ParsedPacket Forward(PacketBuilder packet)
    {
        var result = Run(packet.Build());
        AssertRouted(result, packet.Ttl);
        return ParsedPacket.Parse(result.Packet);
    }

    private void AssertRouted(TestRunResult result, byte ttlIn)
    {
        var fib = MockedFib;
        Assert.Equal(fib.Verdict, result.Action);
        if (fib.Rc != MockFib.Success)
            return;
        Assert.Equal(fib.DestMac, result.Packet[..6]);
        Assert.Equal(fib.SourceMac, result.Packet[6..12]);
        Assert.Equal(ttlIn - 1, ParsedPacket.Parse(result.Packet).Ttl);
    }

    /// <summary>
    /// The backend a new flow went to, or null when the service had none to give (dropped,
    /// or answered with a port unreachable sent back where it came from). A flow that got
    /// one must leave by the mock's route: any other verdict fails the test.
    /// </summary>
    public IPAddress? PickedBackend(TestRunResult result, byte ttlIn = 64)
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
        if (icmp)
        {
            Assert.Equal(XdpAction.Tx, result.Action);
            return null;
        }
        AssertRouted(result, ttlIn);
        return ParsedPacket.Parse(frame).Destination;
    }

    public void Dispose() => Program.Dispose();
}
