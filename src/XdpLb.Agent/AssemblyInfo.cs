// xdplb runs on Linux only: XDP, bpffs and unix sockets with modes.
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
