using XdpLb.Bpf.Interop;

namespace XdpLb.Bpf;

/// <summary>What BPF_PROG_TEST_RUN returned for one packet.</summary>
public sealed record TestRunResult(XdpAction Action, byte[] Packet, uint DurationNs);

public enum XdpAction : uint
{
    Aborted = 0,
    Drop = 1,
    Pass = 2,
    Tx = 3,
    Redirect = 4,
}

public sealed unsafe class BpfProgram
{
    // Room for a packet to grow (encapsulation) on its way out of a test run.
    private const int OutputHeadroom = 256;

    private readonly BpfObject owner;

    internal BpfProgram(string name, BpfFdHandle fd, BpfObject owner)
    {
        Name = name;
        Fd = fd;
        this.owner = owner;
    }

    public string Name { get; }
    public BpfFdHandle Fd { get; }

    /// <summary>
    /// Runs a syscall program once through BPF_PROG_TEST_RUN with <paramref name="context"/>
    /// as its argument; the kernel copies what the program wrote there back.
    /// </summary>
    public int Run<TContext>(ref TContext context) where TContext : unmanaged
    {
        fixed (TContext* ctx = &context)
        {
            var opts = new BpfTestRunOpts
            {
                Size = (nuint)sizeof(BpfTestRunOpts),
                ContextIn = ctx,
                ContextSizeIn = (uint)sizeof(TContext),
            };
            GC.KeepAlive(owner);
            BpfException.Check(LibBpf.ProgTestRunOpts(Fd, &opts), $"BPF_PROG_RUN of {Name}");
            return (int)opts.ReturnValue;
        }
    }

    /// <summary>Runs an XDP program on one packet through BPF_PROG_TEST_RUN.</summary>
    /// <param name="ingressIfindex">The interface the packet pretends to arrive on (0: loopback).</param>
    public TestRunResult TestRun(ReadOnlySpan<byte> packet, int repeat = 1, uint ingressIfindex = 0)
    {
        byte[] output = new byte[packet.Length + OutputHeadroom];
        var ctx = new XdpMd { DataEnd = (uint)packet.Length, IngressIfindex = ingressIfindex };
        fixed (byte* input = packet)
        fixed (byte* outp = output)
        {
            var opts = new BpfTestRunOpts
            {
                Size = (nuint)sizeof(BpfTestRunOpts),
                DataIn = input,
                DataSizeIn = (uint)packet.Length,
                DataOut = outp,
                DataSizeOut = (uint)output.Length,
                ContextIn = ingressIfindex == 0 ? null : &ctx,
                ContextSizeIn = ingressIfindex == 0 ? 0u : (uint)sizeof(XdpMd),
                Repeat = repeat,
            };
            GC.KeepAlive(owner);
            BpfException.Check(LibBpf.ProgTestRunOpts(Fd, &opts), $"BPF_PROG_TEST_RUN of {Name}");
            return new TestRunResult((XdpAction)opts.ReturnValue, output.AsSpan(0, (int)opts.DataSizeOut).ToArray(), opts.Duration);
        }
    }
}
