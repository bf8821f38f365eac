using System.Net;
using XdpLb.Bpf;
using XdpLb.Bpf.Tests.Packets;
using XdpLb.Core.Model;

namespace XdpLb.Bench;

// The BPF fast path through BPF_PROG_TEST_RUN, beside an empty XDP program (XDP_PASS)
// measured the same way in the same run, so the figures are ratios against a baseline
// taken under the same machine load.
//  - established: one TCP flow's packet, repeated in the kernel (repeat = REPEAT);
//  - new connection: a SYN from a new client each run (repeat = 1, so the per-run timing
//    overhead is in both it and its baseline), per scheduler.
// usage: XdpLb.Bench fast-path XDP_PASS_OBJECT [REPEAT] [NEW_CONNECTIONS] [SERVICES]

internal static class FastPathBench
{
    public static int Run(string[] args)
    {
        int repeat = args.Length > 1 ? int.Parse(args[1]) : 1_000_000;
        int newConnections = args.Length > 2 ? int.Parse(args[2]) : 20_000;
        const int Rounds = 5;
        int[] serviceCounts = args.Length > 3 ? [int.Parse(args[3])] : [10, 1_000, 10_000, 100_000];
        Scheduler[] schedulers = Enum.GetValues<Scheduler>();

        var client = IPAddress.Parse("10.0.1.2");
        var vip = IPAddress.Parse("10.97.0.10");
        var syn = new PacketBuilder { Source = client, Destination = vip, DestPort = 80, Flags = TcpFlags.Syn };
        byte[] established = (syn with { Flags = TcpFlags.Ack | TcpFlags.Psh, Payload = new byte[64] }).Build();
        var backends = Enumerable.Range(1, 10).Select(i => new Backend(IPAddress.Parse($"10.0.11.{i}"), 8080, (ushort)i)).ToList();

        using var empty = BpfObject.OpenMemory(File.ReadAllBytes(args[0]), "xdp_pass");
        empty.Load();
        var pass = empty.Program("xdp_pass");

        // The median of a few rounds damps the noise of a shared machine.
        double Median(Func<double> measure) => Enumerable.Range(0, Rounds).Select(_ => measure()).Order().ElementAt(Rounds / 2);

        byte[][] Syns(int round) => Enumerable.Range(0, newConnections).Select(i => (syn with
        {
            Source = new IPAddress(new byte[] { 10, (byte)(100 + round), (byte)(i >> 8), (byte)i }),
            SourcePort = (ushort)(1024 + i % 60000),
        }).Build()).ToArray();

        double PerRun(BpfProgram program, byte[][] packets) => packets.Average(p => (double)program.TestRun(p).DurationNs);

        Console.WriteLine($"BPF_PROG_TEST_RUN; established: repeat {repeat:N0}; new connections: {newConnections:N0} SYNs of new clients, repeat 1; median of {Rounds} rounds; ns per packet");
        Console.WriteLine();
        Console.WriteLine($"| services | empty XDP (repeat) | established | ratio | empty XDP (repeat 1) | {string.Join(" | ", schedulers.Select(s => $"new {Names.Of(s)}"))} |");
        Console.WriteLine($"|---:|---:|---:|---:|---:|{string.Concat(schedulers.Select(_ => "---:|"))}");
        foreach (int services in serviceCounts)
        {
            // The measured service has 10 backends with weights 1..10; the rest are fillers that
            // only make the service map big.
            var fillers = Enumerable.Range(0, services - 1).Select(i => new Service
            {
                Address = new IPAddress(new byte[] { 10, 96, (byte)(i >> 8 & 0xff), (byte)(i & 0xff) }),
                Port = (ushort)(80 + (i >> 16)),
                Backends = backends.Take(2).ToList(),
            }).ToList();
            var limits = new Limits((uint)services, (uint)(services * 2 + 16), (uint)(newConnections * Rounds + 16));

            double baseline = Median(() => pass.TestRun(established, repeat).DurationNs);
            double fast;
            {
                using var program = XdpLbProgram.Load(limits);
                new XdpDataplane(program).Apply(new LbConfig { Limits = limits, Services = [.. fillers, new Service { Address = vip, Port = 80, Backends = backends }] });
                program.Ingress.TestRun(syn.Build());
                fast = Median(() => program.Ingress.TestRun(established, repeat).DurationNs);
            }

            var perScheduler = new List<double>();
            double baselineOne = Median(() => PerRun(pass, Syns(0)));
            foreach (var scheduler in schedulers)
            {
                using var program = XdpLbProgram.Load(limits);
                var measured = new Service { Address = vip, Port = 80, Scheduler = scheduler, Backends = backends };
                new XdpDataplane(program).Apply(new LbConfig { Limits = limits, Services = [.. fillers, measured] });
                int round = 0;
                perScheduler.Add(Median(() => PerRun(program.Ingress, Syns(++round))));
            }
            Console.WriteLine($"| {services:N0} | {baseline:F1} | {fast:F1} | {fast / baseline:F2} | {baselineOne:F1} | {string.Join(" | ", perScheduler.Select(v => v.ToString("F0")))} |");
        }
        return 0;
    }
}
