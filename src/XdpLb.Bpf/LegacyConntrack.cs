using System.Runtime.InteropServices;
using XdpLb.Bpf.Btf;
using XdpLb.Bpf.Interop;
using XdpLb.Bpf.Maps;

namespace XdpLb.Bpf;

/// <summary>struct flow as agents before the sweep index pinned it (no tag, no index slot).</summary>
[StructLayout(LayoutKind.Sequential)]
public struct FlowValueV1
{
    public LbAddr NatAddr;
    public ushort NatPort;
    public FlowDirection Direction;
    public FlowFlags Flags;
    public TcpState State;
    public uint BackendId;
    public uint ServiceId;
    public ulong LastSeenNs;
    public LbAddr MasqAddr;
    public ushort MasqPort;
    public ushort VlanTci;
}

/// <summary>struct affinity as agents before the sweep index pinned it.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct AffinityValueV1
{
    public BackendValue Backend;
    public uint ServiceId;
    public uint Reserved;
    public ulong LastUsedNs;
}

/// <summary>
/// Upgrades the connection table and affinity templates pinned by an agent of the previous
/// layout (a hash allocated per entry, without tags or the sweep index), so that an upgrade
/// keeps every connection. The old maps are moved aside before the new object loads (it then
/// creates and pins its own), copied into the new ones while the old program still serves,
/// and copied again once the interfaces run the new program, for what the old one opened or
/// ended in between. Every copied connection gets a tag and an index slot, counts as opened,
/// and is assured: it is never reclaimed, only expired.
/// </summary>
public sealed class LegacyConntrack : IDisposable
{
    // Where they wait: bpffs refuses names with a dot, so a directory beside them, not a suffix.
    private const string AsideDirectory = "previous-layout";
    private readonly string mapsDirectory;
    private readonly BpfMap<FlowKey, FlowValueV1>? connections;
    private readonly BpfMap<AffinityKey, AffinityValueV1>? templates;
    private readonly HashSet<FlowKey> copied = new();
    // Index slots are handed out in order: the new index is empty until the new program runs.
    // For the catch-up, when it does run, windows are reserved (every tag INDEX_CLAIMING,
    // which the data path and the sweeper leave alone) and filled in two writes each.
    private uint nextSlot;
    private uint reservedFrom, reservedTo;
    private bool catchingUp;

    /// <summary>Windows reserved for the connections the old program opens during the switch.</summary>
    public const uint ReservedWindows = 1024;

    private LegacyConntrack(string mapsDirectory, BpfMap<FlowKey, FlowValueV1>? connections, BpfMap<AffinityKey, AffinityValueV1>? templates)
    {
        this.mapsDirectory = mapsDirectory;
        this.connections = connections;
        this.templates = templates;
    }

    /// <summary>The names of the maps moved aside.</summary>
    public IReadOnlyList<string> Moved =>
        new[] { connections is null ? null : "conntrack", templates is null ? null : "affinity" }.OfType<string>().ToList();

    /// <summary>
    /// Puts the maps back under their names, in place of the new ones the failed load may have
    /// pinned there (empty: nothing ran on them).
    /// </summary>
    public void PutBack()
    {
        foreach (var name in Moved)
            if (File.Exists(Aside(mapsDirectory, name)))
                File.Move(Aside(mapsDirectory, name), Path.Combine(mapsDirectory, name), overwrite: true);
    }

    /// <summary>Maps of the previous layout moved aside, or null when there are none.</summary>
    public static LegacyConntrack? MoveAside(string pinDirectory)
    {
        string maps = Path.Combine(pinDirectory, "maps");
        var connections = OpenIfLegacy<FlowKey, FlowValueV1>(maps, "conntrack");
        var templates = OpenIfLegacy<AffinityKey, AffinityValueV1>(maps, "affinity");
        return connections is null && templates is null ? null : new LegacyConntrack(maps, connections, templates);
    }

    // A pinned map whose layout is the previous one (its own BTF says so): moved aside, open.
    private static BpfMap<TKey, TValue>? OpenIfLegacy<TKey, TValue>(string maps, string name)
        where TKey : unmanaged where TValue : unmanaged
    {
        string path = Path.Combine(maps, name);
        if (!File.Exists(path))
            return null;
        int fd = LibBpf.ObjGet(path);
        if (fd < 0)
            return null;
        var handle = new BpfFdHandle(fd, ownsHandle: true);
        try
        {
            BtfLayout.VerifyKernelMap(handle, name, typeof(TKey), typeof(TValue));
        }
        catch (BtfLayoutException)
        {
            handle.Dispose();
            return null; // today's layout, or another: the loader decides
        }
        Directory.CreateDirectory(Path.Combine(maps, AsideDirectory));
        File.Move(path, Aside(maps, name), overwrite: true);
        return new BpfMap<TKey, TValue>($"{name} (previous layout)", handle, MaxEntriesOf(handle));
    }

    private static string Aside(string maps, string name) => Path.Combine(maps, AsideDirectory, name);

    private static unsafe uint MaxEntriesOf(BpfFdHandle map)
    {
        var info = default(BpfMapInfo);
        uint length = (uint)sizeof(BpfMapInfo);
        BpfException.Check(LibBpf.ObjGetInfoByFd(map, &info, &length), "reading the info of a pinned map");
        return info.MaxEntries;
    }

    /// <summary>Copies connections and templates into the new maps (before the interfaces switch programs).</summary>
    public int CopyInto(XdpLbProgram program)
    {
        int copiedNow = Copy(program);
        reservedFrom = (nextSlot + IndexWindow.Ways - 1) / IndexWindow.Ways;
        reservedTo = Math.Min(program.SweepIndex.MaxEntries, reservedFrom + ReservedWindows);
        var claimed = default(IndexWindow);
        for (int way = 0; way < IndexWindow.Ways; way++)
            claimed.Tag[way] = IndexWindow.Claiming;
        for (uint w = reservedFrom; w < reservedTo; w++)
            program.SweepIndex.Update(w, claimed);
        nextSlot = reservedFrom * IndexWindow.Ways;
        catchingUp = true;
        return copiedNow;
    }

    /// <summary>
    /// Once the new program serves every interface (the old one runs no more): copies what the
    /// old program opened since <see cref="CopyInto"/>, removes what it ended, then drops the
    /// old maps.
    /// </summary>
    public int CatchUp(XdpLbProgram program)
    {
        int added = Copy(program);
        if (connections is not null)
        {
            var still = connections.Keys().ToHashSet();
            foreach (var gone in copied.Where(k => !still.Contains(k)).ToList())
            {
                // The old program ended it (and moved its counts) after the first copy.
                if (program.Conntrack.TryLookup(gone, out var flow) && flow.Direction == FlowDirection.Request)
                    RemoveCopy(program, gone, flow);
            }
        }
        // Give back the reserved slots left unused.
        for (uint w = reservedFrom; w < reservedTo; w++)
        {
            program.SweepIndex.TryLookup(w, out var window);
            for (int way = 0; way < IndexWindow.Ways; way++)
                if (window.Tag[way] == IndexWindow.Claiming)
                    window.Tag[way] = 0;
            program.SweepIndex.Update(w, window);
        }
        if (Directory.Exists(Path.Combine(mapsDirectory, AsideDirectory)))
            Directory.Delete(Path.Combine(mapsDirectory, AsideDirectory), recursive: true);
        return added;
    }

    private int Copy(XdpLbProgram program)
    {
        int opened = 0;
        if (connections is not null)
        {
            var entries = connections.Entries().ToList();
            var byKey = entries.ToDictionary(e => e.Key, e => e.Value);
            foreach (var (key, old) in entries.Where(e => e.Value.Direction == FlowDirection.Request && !copied.Contains(e.Key)))
            {
                uint slot = ++nextSlot;
                if (slot > SlotLimit(program))
                    break; // more connections than today's limits hold: the rest are not kept
                uint tag = NextTag(program);
                var flow = Upgrade(old, tag, slot);
                if (!program.Conntrack.TryUpdate(key, flow, MapUpdate.NoExist))
                {
                    nextSlot--; // the new program opened it again meanwhile: its own
                    continue;
                }
                var reply = ConnectionKeys.ReplyKey(key, flow);
                if (!flow.Flags.HasFlag(FlowFlags.Direct) && byKey.TryGetValue(reply, out var oldReply))
                    program.Conntrack.Update(reply, Upgrade(oldReply, 0, 0));
                WriteSlot(program, slot, tag, IndexKind.Connection, key, catchingUp);
                copied.Add(key);
                opened++;
            }
            AddOpened(program, (ulong)opened);
        }
        if (templates is not null)
        {
            foreach (var (key, old) in templates.Entries())
            {
                if (program.Affinity.TryLookup(key, out _))
                    continue;
                uint slot = ++nextSlot;
                if (slot > SlotLimit(program))
                    break;
                uint tag = NextTag(program);
                program.Affinity.Update(key, new AffinityValue
                {
                    Backend = old.Backend, ServiceId = old.ServiceId, LastUsedNs = old.LastUsedNs, Tag = tag, IndexSlot = slot,
                });
                var asFlowKey = default(FlowKey);
                MemoryMarshal.Write(MemoryMarshal.AsBytes(new Span<FlowKey>(ref asFlowKey)), in key);
                WriteSlot(program, slot, tag, IndexKind.Template, asFlowKey, catchingUp);
            }
        }
        return opened;
    }

    // A connection of the old layout is assured: whether it saw an answer is not known, and
    // an upgrade must not turn a live connection into one a flood can reclaim.
    private static FlowValue Upgrade(FlowValueV1 old, uint tag, uint slot) => new()
    {
        NatAddr = old.NatAddr, NatPort = old.NatPort, Direction = old.Direction,
        Flags = old.Direction == FlowDirection.Request ? old.Flags | FlowFlags.Assured : old.Flags,
        State = old.State, BackendId = old.BackendId, ServiceId = old.ServiceId, LastSeenNs = old.LastSeenNs,
        MasqAddr = old.MasqAddr, MasqPort = old.MasqPort, VlanTci = old.VlanTci, Tag = tag, IndexSlot = slot,
    };

    private static void RemoveCopy(XdpLbProgram program, FlowKey key, FlowValue flow)
    {
        program.Conntrack.Delete(key);
        if (!flow.Flags.HasFlag(FlowFlags.Direct))
            program.Conntrack.Delete(ConnectionKeys.ReplyKey(key, flow));
        program.SweepIndex.TryLookup((flow.IndexSlot - 1) / IndexWindow.Ways, out var w);
        // Only if the slot is still its own: a compare-and-free, as the kernel's.
        if (w.Tag[(int)((flow.IndexSlot - 1) % IndexWindow.Ways)] == flow.Tag)
            WriteSlot(program, flow.IndexSlot, 0, 0, default, twoSteps: false);
        AddOpened(program, unchecked((ulong)-1));
    }

    private static uint NextTag(XdpLbProgram program)
    {
        program.ConntrackTags.TryLookup(0, out var tags);
        tags.Next++;
        // The ring's tail follows: these are not in the ring (they are assured anyway).
        tags.Reclaimed = tags.Next;
        program.ConntrackTags.Update(0, tags);
        return (uint)tags.Next;
    }

    private uint SlotLimit(XdpLbProgram program) =>
        (catchingUp ? reservedTo : program.SweepIndex.MaxEntries) * (uint)IndexWindow.Ways;

    // twoSteps: the key first under INDEX_CLAIMING, then the tag, for a sweeper that may be
    // reading (a map update copies the window from its first byte, tags first).
    private static void WriteSlot(XdpLbProgram program, uint slot, uint tag, IndexKind kind, FlowKey key, bool twoSteps)
    {
        uint window = (slot - 1) / IndexWindow.Ways;
        int way = (int)((slot - 1) % IndexWindow.Ways);
        program.SweepIndex.TryLookup(window, out var w);
        w.DueSeconds[way] = 0; // looked at on the sweeper's first pass
        w.Kind[way] = (byte)kind;
        w.Key[way] = key;
        if (twoSteps)
        {
            w.Tag[way] = IndexWindow.Claiming;
            program.SweepIndex.Update(window, w);
        }
        w.Tag[way] = tag;
        program.SweepIndex.Update(window, w);
    }

    // Opened less ended is the table's size: a copied connection counts as opened (on CPU 0).
    private static void AddOpened(XdpLbProgram program, ulong count)
    {
        if (count == 0)
            return;
        var perCpu = program.ConntrackEvents.Lookup((uint)ConntrackEvent.Opened);
        perCpu[0] += count;
        program.ConntrackEvents.Update((uint)ConntrackEvent.Opened, perCpu);
    }

    public void Dispose()
    {
        connections?.Fd.Dispose();
        templates?.Fd.Dispose();
    }
}
