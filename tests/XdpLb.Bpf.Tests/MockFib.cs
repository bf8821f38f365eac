using System.Net;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using XdpLb.Bpf.Maps;

namespace XdpLb.Bpf.Tests;

/// <summary>
/// struct mock_fib of bpf/tests/xdplb_mock_fib.bpf.c: the answer of every FIB lookup in the
/// mock-FIB build, so that a test sees the verdict and bytes a real route would give
/// (checked against the object's BTF when the map is opened).
/// </summary>
[StructLayout(LayoutKind.Sequential)]
public struct MockFib
{
    public const string ObjectResource = "xdplb_mock_fib.bpf.o";

    /// <summary>BPF_FIB_LKUP_RET_SUCCESS: the route and its neighbour are known.</summary>
    public const uint Success = 0;
    /// <summary>BPF_FIB_LKUP_RET_NO_NEIGH: the route is, its neighbour not yet.</summary>
    public const uint NoNeighbour = 7;
    /// <summary>A test run's ingress interface (the namespace's loopback).</summary>
    public const uint IngressIfindex = 1;
    /// <summary>The egress of <see cref="DefaultRoute"/>: any interface but the ingress one.</summary>
    public const uint EgressIfindex = 7;

    public static readonly byte[] RouterMac = [0x02, 0, 0, 0, 0, 0xaa];
    public static readonly byte[] NextHopMac = [0x02, 0, 0, 0, 0, 0xbb];

    /// <summary>
    /// What a mock-FIB harness answers until a test says otherwise: every destination routed
    /// out of another interface with a known neighbour, so a forwarded packet is redirected.
    /// </summary>
    public static MockFib DefaultRoute => Route(EgressIfindex, RouterMac, NextHopMac);

    public uint Rc;
    public uint Ifindex;
    public Mac Smac;
    public Mac Dmac;
    public LbAddr Src;

    public static MockFib Route(uint ifindex, byte[] smac, byte[] dmac, IPAddress? source = null)
    {
        var fib = new MockFib { Rc = Success, Ifindex = ifindex, Src = source is null ? default : LbAddr.From(source) };
        smac.CopyTo(fib.Smac);
        dmac.CopyTo(fib.Dmac);
        return fib;
    }

    /// <summary>What the data path answers a packet it forwards by this answer.</summary>
    public readonly XdpAction Verdict =>
        Rc != Success ? XdpAction.Pass : Ifindex == IngressIfindex ? XdpAction.Tx : XdpAction.Redirect;

    public readonly byte[] SourceMac => ((ReadOnlySpan<byte>)Smac).ToArray();
    public readonly byte[] DestMac => ((ReadOnlySpan<byte>)Dmac).ToArray();
}

[InlineArray(6)]
public struct Mac
{
    private byte first;
}
