using XdpLb.Bpf;

namespace XdpLb.Agent;

/// <summary>
/// What the node must offer for the flags given, checked before anything loads: a wrong flag
/// is then a usage error (exit 2) rather than an agent that fails half started.
/// </summary>
internal static class NodeChecks
{
    public static void Check(RunOptions options)
    {
        if (options.Dataplane == DataplaneChoice.Ipvs)
            return;
        if (!BpfFilesystem.Contains(options.BpfPinDir, out string probed))
            throw new UsageException($"--bpf-pin-dir {options.BpfPinDir} is not on a BPF filesystem ({probed} is not bpffs): " +
                "mount one first (mount -t bpf bpf /sys/fs/bpf), so that maps and links outlive the agent");
        SocketLbHooks.CheckOption(options.CgroupRoot);
    }
}
