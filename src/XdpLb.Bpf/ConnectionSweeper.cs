using XdpLb.Bpf.Maps;
using XdpLb.Core.Model;

namespace XdpLb.Bpf;

/// <summary>What one run of the sweeper did.</summary>
public readonly record struct SweepResult(int Ended, int Live, bool Wrapped);

/// <summary>
/// Drives the kernel's sweeper (the `sweep` program of bpf/xdplb.bpf.c): expiry of
/// connections and affinity templates runs in the kernel, a slice of the sweep index at a
/// time from where the last slice stopped, so that its cost per second is what
/// <see cref="WindowsPerTick"/> allows, whatever the table's size. Packets never wait for it:
/// the data path treats a connection idle past its timeout as gone when it sees one.
/// Nothing here copies the table to user space.
/// </summary>
public sealed class ConnectionSweeper
{
    /// <summary>
    /// Windows (8 slots) visited per tick. A slot that is not due costs two loads, so a tick
    /// stays at a few milliseconds; with two slots per connection, a pass over the default
    /// 1,000,000 connections takes 4 ticks.
    /// </summary>
    public const uint WindowsPerTick = 65_536;

    private readonly XdpLbProgram program;
    private Timeouts timeouts = new();
    private uint resumeAt;
    private bool checkAllOnNextPass;

    public ConnectionSweeper(XdpLbProgram program)
    {
        this.program = program;
        WriteConfig();
    }

    /// <summary>tcpTimeout, tcpFinTimeout, udpTimeout; a change reaches every connection within one pass.</summary>
    public Timeouts Timeouts
    {
        get => timeouts;
        set
        {
            if (value == timeouts)
                return;
            timeouts = value;
            WriteConfig();
            // Slots hold when their entry is due under the old timeouts: look at all once.
            checkAllOnNextPass = true;
        }
    }

    /// <summary>IPVS's timeout for a state; the three settable ones come from the config.</summary>
    public TimeSpan TimeoutOf(byte protocol, TcpState state) => TimeSpan.FromSeconds(TimeoutSeconds(protocol, state));

    private uint TimeoutSeconds(byte protocol, TcpState state) => protocol == 17
        ? Timeouts.Udp
        : state switch
        {
            TcpState.None => 2,
            TcpState.Established => Timeouts.Tcp,
            TcpState.SynSent => 120,
            TcpState.SynRecv => 60,
            TcpState.FinWait => Timeouts.TcpFin,
            TcpState.TimeWait => 120,
            TcpState.Close => 10,
            TcpState.CloseWait => 60,
            TcpState.LastAck => 30,
            TcpState.Listen => 120,
            _ => 120,
        };

    // The data path and the sweeper read their timeouts and the index's geometry here.
    private void WriteConfig()
    {
        var config = new ConntrackConfig
        {
            UdpTimeoutSeconds = TimeoutSeconds(17, TcpState.None),
            RingMask = program.ReclaimRing.MaxEntries - 1,
            IndexWindows = program.SweepIndex.MaxEntries,
        };
        for (var s = TcpState.None; s < TcpState.Max; s++)
            config.TcpTimeoutSeconds[(int)s] = TimeoutSeconds(6, s);
        program.ConntrackConfig.Update(0, config);
    }

    /// <summary>One budgeted slice, from where the last one stopped (called once a second).</summary>
    /// <param name="windows">The budget.</param>
    /// <param name="after">Judge idleness as if this much more time had passed (tests).</param>
    public SweepResult Tick(uint windows = WindowsPerTick, TimeSpan after = default)
    {
        bool checkAll = checkAllOnNextPass && resumeAt == 0;
        var (result, next) = Run(resumeAt, windows, checkAll, (ulong)after.Ticks * 100);
        resumeAt = next;
        if (checkAll && result.Wrapped)
            checkAllOnNextPass = false;
        return result;
    }

    /// <summary>
    /// Whole passes now, looking at every entry, due or not, until one ends nothing: every
    /// connection idle past its timeout ends, and every template idle past its service's
    /// timeout that controls no connection (one whose last connection ended in this call
    /// too). Returns how many connections and templates went.
    /// </summary>
    /// <param name="after">Judge idleness as if this much more time had passed (tests).</param>
    public int CollectExpired(TimeSpan after = default)
    {
        int ended = 0, pass;
        do
        {
            pass = FullPass(checkAll: true, after);
            ended += pass;
        }
        while (pass > 0);
        return ended;
    }

    /// <summary>
    /// Ends every connection to these backends and drops their affinity templates (IPVS's
    /// expire_nodest_conn=1 on removal), in one pass over the index in the kernel.
    /// </summary>
    public int ExpireBackends(IReadOnlySet<uint> backendIds)
    {
        if (backendIds.Count == 0)
            return 0;
        foreach (uint id in backendIds)
            program.ConntrackPurge.Update(id, 1);
        try
        {
            return FullPass(checkAll: true, TimeSpan.Zero);
        }
        finally
        {
            foreach (uint id in backendIds)
                program.ConntrackPurge.Update(id, 0);
        }
    }

    private int FullPass(bool checkAll, TimeSpan after)
    {
        int ended = 0;
        uint window = 0;
        SweepResult result;
        do
        {
            (result, window) = Run(window, WindowsPerTick, checkAll, (ulong)after.Ticks * 100);
            ended += result.Ended;
        }
        while (!result.Wrapped);
        return ended;
    }

    // Returns the run's outcome and the window the next run resumes at.
    private (SweepResult Result, uint Next) Run(uint window, uint windows, bool checkAll, ulong skewNs)
    {
        var args = new SweepArgs { Window = window, Windows = windows, CheckAll = checkAll ? 1u : 0u, SkewNs = skewNs };
        program.Sweep.Run(ref args);
        return (new SweepResult((int)args.Ended, (int)args.Live, args.Wrapped != 0), args.Window);
    }
}
