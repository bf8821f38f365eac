namespace XdpLb.Ipvs;

/// <summary>
/// What a cleanup did, thing by thing: `xdplb cleanup` logs each line and exits 1 when
/// anything failed. Nothing to remove and a missing tool are notes, not failures.
/// </summary>
public interface ICleanupReport
{
    void Removed(string what);

    /// <summary>Found, and left in place on purpose.</summary>
    void Kept(string what, string why);

    void Failed(string what, string error);

    void Note(string message);
}
