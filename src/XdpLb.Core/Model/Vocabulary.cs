namespace XdpLb.Core.Model;

public enum Protocol { Tcp, Udp, Sctp }

/// <summary>The IPVS schedulers, by their ipvsadm names.</summary>
public enum Scheduler { Rr, Wrr, Lc, Wlc, Sh, Dh, Sed, Nq, Mh }

/// <summary>nat: DNAT with replies through the node; masq: DNAT+SNAT; dr: MAC rewrite; tun: IPIP.</summary>
public enum Forwarding { Nat, Masq, Dr, Tun }

public enum TrafficPolicy { Cluster, Local }

/// <summary>Scheduler flags, by their ipvsadm names (sh-port, sh-fallback, mh-port, mh-fallback).</summary>
public enum SchedulerFlag { ShPort, ShFallback, MhPort, MhFallback }

public static class Names
{
    public static string Of(Protocol p) => p.ToString().ToLowerInvariant();
    public static string Of(Scheduler s) => s.ToString().ToLowerInvariant();
    public static string Of(Forwarding f) => f.ToString().ToLowerInvariant();
    public static string Of(TrafficPolicy t) => t.ToString().ToLowerInvariant();

    public static string Of(SchedulerFlag f) => f switch
    {
        SchedulerFlag.ShPort => "sh-port",
        SchedulerFlag.ShFallback => "sh-fallback",
        SchedulerFlag.MhPort => "mh-port",
        SchedulerFlag.MhFallback => "mh-fallback",
        _ => throw new ArgumentOutOfRangeException(nameof(f)),
    };

    /// <summary>Parses a lower-case name among an enum's values (flags by their dashed names).</summary>
    public static bool TryParse<T>(string text, out T value) where T : struct, Enum
    {
        foreach (var candidate in Enum.GetValues<T>())
        {
            if (Display(candidate) == text)
            {
                value = candidate;
                return true;
            }
        }
        value = default;
        return false;
    }

    public static string Display<T>(T value) where T : struct, Enum =>
        value is SchedulerFlag flag ? Of(flag) : value.ToString().ToLowerInvariant();

    public static string All<T>() where T : struct, Enum => string.Join(", ", Enum.GetValues<T>().Select(Display));
}
