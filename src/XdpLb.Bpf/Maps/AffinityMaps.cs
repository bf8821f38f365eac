using System.Runtime.InteropServices;

namespace XdpLb.Bpf.Maps;

// Twins of bpf/lib/maps.h (affinity, backend_status).

/// <summary>struct affinity_key: IPVS's persistence template key (client port 0).</summary>
[StructLayout(LayoutKind.Sequential)]
public struct AffinityKey
{
    public LbAddr Client;
    public LbAddr Vip;
    public ushort Vport;
    public byte Proto;
    public byte Family;
}

/// <summary>struct affinity: the template's backend and when a new connection last used it.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct AffinityValue
{
    public BackendValue Backend;
    public uint ServiceId;
    /// <summary>Live connections of the XDP path that follow it: it does not expire while any do.</summary>
    public uint Controls;
    public ulong LastUsedNs;
    /// <summary>Names it in the sweep index.</summary>
    public uint Tag;
    /// <summary>Its slot there + 1; 0: none.</summary>
    public uint IndexSlot;
}

/// <summary>struct backend_status: the service a backend id belongs to now, and its weight + 1 (0: none).</summary>
[StructLayout(LayoutKind.Sequential)]
public struct BackendStatus
{
    public uint ServiceId;
    public uint WeightPlusOne;
    /// <summary>One up each time the id is given to a backend (kept while it is free).</summary>
    public uint Epoch;
    public uint Reserved;
}
