namespace XdpLb.Integration.Tests;

// The forwarding-mode tests (ForwardingModes.cs) through native and through generic XDP; the
// VM layer runs the same tests through the kernel's IPVS.
public sealed class NativeXdpTopology() : ForwardingModeTopology("xdp");

public sealed class GenericXdpTopology() : ForwardingModeTopology("xdp-generic");

[Collection("native XDP")]
public sealed class NativeXdpForwardingTests(NativeXdpTopology fixture) : ForwardingModeTrafficTests(fixture), IClassFixture<NativeXdpTopology>;

[Collection("generic XDP")]
public sealed class GenericXdpForwardingTests(GenericXdpTopology fixture) : ForwardingModeTrafficTests(fixture), IClassFixture<GenericXdpTopology>;
