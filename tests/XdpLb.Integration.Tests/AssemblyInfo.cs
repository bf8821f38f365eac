// The tests drive Linux-only things: XDP, network namespaces, unix socket modes.
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
