using XdpLb.Core.Model;
using XdpLb.Kubernetes.Translation;

namespace XdpLb.Kubernetes.Tests.Translation;

/// <summary>Virtual servers as one line each, the way the scenarios state what they expect.</summary>
internal static class Describe
{
    /// <summary>"TCP 10.96.0.10:80 rr nat -> 10.0.1.1:8080 10.0.1.2:8080" (plus " persistent 10800", " from CIDR", " flags mh-port").</summary>
    public static string Of(Service s)
    {
        var line = $"{Names.Of(s.Protocol).ToUpperInvariant()} {s.Key!.ToString()[..^(Names.Of(s.Protocol).Length + 1)]} {Names.Of(s.Scheduler)} {Names.Of(s.Forwarding)}";
        if (s.MasqueradeOutsideCluster)
            line += " masq-outside-cluster";
        if (s.Flags.Count > 0)
            line += " flags " + string.Join(",", s.Flags.Select(Names.Of));
        if (s.Persistence > 0)
            line += $" persistent {s.Persistence}";
        if (s.SourceRanges.Count > 0)
            line += " from " + string.Join(",", s.SourceRanges);
        return line + " ->" + string.Concat(s.Backends.Select(b => " " + b));
    }

    public static string[] All(TranslationResult result) => result.Services.Select(Of).ToArray();
}
