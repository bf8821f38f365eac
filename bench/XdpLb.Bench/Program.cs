using System.Net;
using XdpLb.Bpf;
using XdpLb.Bpf.Tests.Packets;
using XdpLb.Core.Model;

// The BPF fast path through BPF_PROG_TEST_RUN: ns/packet of an established TCP flow at
// several service counts, beside an empty XDP program (XDP_PASS) measured in the same run,
// so the figures are ratios against a baseline taken under the same machine load.
// usage: XdpLb.Bench XDP_PASS_OBJECT [REPEAT]

if (args.Length < 1)
{
    Console.Error.WriteLine("usage: XdpLb.Bench XDP_PASS_OBJECT [REPEAT]");
    return 2;
}
int repeat = args.Length > 1 ? int.Parse(args[1]) : 1_000_000;
const int Rounds = 5;

var client = IPAddress.Parse("10.0.1.2");
var vip = IPAddress.Parse("10.97.0.10");
var syn = new PacketBuilder { Source = client, Destination = vip, DestPort = 80, Flags = TcpFlags.Syn };
byte[] established = (syn with { Flags = TcpFlags.Ack | TcpFlags.Psh, Payload = new byte[64] }).Build();

using var empty = BpfObject.OpenMemory(File.ReadAllBytes(args[0]), "xdp_pass");
empty.Load();
var pass = empty.Program("xdp_pass");

// The median of a few rounds damps the noise of a shared machine.
double Median(Func<uint> measure) => Enumerable.Range(0, Rounds).Select(_ => (double)measure()).Order().ElementAt(Rounds / 2);

Console.WriteLine($"BPF_PROG_TEST_RUN, repeat {repeat:N0}, median of {Rounds} rounds");
Console.WriteLine($"{"services",10} {"empty XDP ns",14} {"established ns",16} {"ratio",7}");
foreach (int services in new[] { 10, 1_000, 10_000, 100_000 })
{
    var svcList = Enumerable.Range(0, services).Select(i => new Service
    {
        Address = new IPAddress(new byte[] { 10, 96, (byte)(i >> 8 & 0xff), (byte)(i & 0xff) }),
        Port = (ushort)(80 + (i >> 16)),
        Backends = [new Backend(IPAddress.Parse("10.0.11.2"), 8080), new Backend(IPAddress.Parse("10.0.12.2"), 8080)],
    }).ToList();
    svcList[0] = svcList[0] with { Address = vip, Port = 80 };
    var config = new LbConfig { Limits = new Limits((uint)services, (uint)services * 2, 1024), Services = svcList };
    using var program = XdpLbProgram.Load(config.Limits);
    new XdpDataplane(program).Apply(config);
    program.Ingress.TestRun(syn.Build());

    double baseline = Median(() => pass.TestRun(established, repeat).DurationNs);
    double fast = Median(() => program.Ingress.TestRun(established, repeat).DurationNs);
    Console.WriteLine($"{services,10:N0} {baseline,14:F1} {fast,16:F1} {fast / baseline,7:F2}");
}
return 0;
