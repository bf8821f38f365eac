namespace XdpLb.Bpf.Tests;

/// <summary>Missing prerequisites fail the test with what to do; nothing is skipped.</summary>
public static class Prerequisites
{
    public static void RequireRoot()
    {
        if (Environment.UserName != "root" && Tmds.Linux.LibC.geteuid() != 0)
            throw new InvalidOperationException("BPF tests load programs into the kernel and must run as root (sudo make test)");
        if (!File.Exists("/sys/kernel/btf/vmlinux"))
            throw new InvalidOperationException("this kernel has no BTF (/sys/kernel/btf/vmlinux): the BPF tests need a BPF-capable kernel");
    }
}
