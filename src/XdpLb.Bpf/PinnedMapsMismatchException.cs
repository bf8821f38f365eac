namespace XdpLb.Bpf;

/// <summary>
/// The maps pinned by an earlier agent do not fit this one: another BPF object version
/// changed a map, or `limits` changed its capacity. xdplb refuses rather than migrate
/// silently (README: upgrades).
/// </summary>
public sealed class PinnedMapsMismatchException(string pinDirectory, BpfException inner) : Exception(
    $"the maps pinned in {pinDirectory} do not match this xdplb build or these limits, so they cannot be adopted. " +
    $"Start with the limits the running maps were made with, or remove {Path.Combine(pinDirectory, "maps")} to start " +
    $"with empty maps (established connections through this node are then dropped).{Environment.NewLine}{inner.Message}", inner);
