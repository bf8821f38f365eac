namespace XdpLb.Vm.Tests;

public sealed class IpvsTopology() : ForwardingModeTopology("ipvs");

/// <summary>
/// The forwarding-mode tests the integration layer runs through native and generic XDP
/// (nat, masq, dr; HTTP and UDP; IPv4 and IPv6; a megabyte; the address backends see;
/// hairpin), here through the kernel's IPVS with --dataplane ipvs: clients see the same.
/// </summary>
[Collection("ipvs")]
public sealed class IpvsForwardingTests(IpvsTopology fixture) : ForwardingModeTrafficTests(fixture), IClassFixture<IpvsTopology>;
