using System.Net;
using System.Text.Json;
using XdpLb.Core.Model;
using XdpLb.Core.Reconcile;

namespace XdpLb.Ipvs;

/// <summary>
/// The kernel's IPVS behind the reconciler's interface, for kernels where XDP cannot run.
/// xdplb owns exactly the virtual servers it recorded in its state file and never touches
/// any other (another tool's, or kube-proxy's). Each change goes to the kernel first; the
/// state file follows, so a crash leaves at worst a server xdplb will adopt or delete.
/// </summary>
public sealed class IpvsDataplane : IDataplane
{
    private readonly IpvsClient client;
    private readonly IpvsHost host;
    private readonly string stateFile;
    private readonly Dictionary<ServiceKey, Service> applied = new();
    private PortRange masqPorts = new();
    // The dummy's addresses and the nftables table cover every service: refreshed once per sync (EndSync).
    private bool hostStale;

    public IpvsDataplane(IpvsClient client, IpvsHost host, string stateFile)
    {
        this.client = client;
        this.host = host;
        this.stateFile = stateFile;
        host.Setup();
        foreach (var s in LoadOwned(stateFile))
            applied[s.Key!] = s;
    }

    public IReadOnlyDictionary<ServiceKey, Service> Applied => applied;

    public void SetTimeouts(Timeouts timeouts) => client.SetTimeouts(new IpvsTimeouts(timeouts.Tcp, timeouts.TcpFin, timeouts.Udp));

    public void SetMasquerade(MasqSettings masq)
    {
        masqPorts = masq.PortRange;
        hostStale = true;
    }

    private IReadOnlyList<string> clusterCidrs = [];

    public void SetClusterCidrs(IReadOnlyList<string> cidrs)
    {
        clusterCidrs = cidrs;
        hostStale = true;
    }

    public void ApplyService(Service service)
    {
        var key = service.Key ?? throw new ArgumentException($"{service.Label} has no address", nameof(service));
        var vs = IpvsMapping.VirtualService(service);
        // One lookup, not a dump of every service: a full sync applies thousands of them.
        var existing = client.GetService(vs);
        // Recorded before the kernel changes: a crash in between leaves a server we own.
        applied[key] = service;
        Save();
        if (existing is null)
            client.AddService(vs);
        else if (!IpvsMapping.SameSettings(existing, vs))
            client.UpdateService(vs);

        var current = existing is null ? [] : client.GetDestinations(vs);
        var wanted = service.Backends.Select(b => IpvsMapping.Destination(service, b)).ToList();
        if (service.Protocol == Protocol.Udp && current.Count == 0 && wanted.Count > 0)
            host.ForgetUdpServiceFlows(key);
        foreach (var d in current.Where(c => !wanted.Any(w => SameDest(w, c))))
        {
            client.DeleteDestination(vs, d);
            if (service.Protocol == Protocol.Udp)
                host.ForgetUdpFlows(key, d.Address);
        }
        // In the order listed: IPVS puts each new dest at the head of its list, as the XDP
        // dataplane models it.
        foreach (var d in wanted)
        {
            var now = current.FirstOrDefault(c => SameDest(c, d));
            if (now is null)
                client.AddDestination(vs, d);
            else if (!IpvsMapping.SameDestination(now, d))
                client.UpdateDestination(vs, d);
        }
        hostStale = true;
    }

    public void RemoveService(ServiceKey key)
    {
        if (!applied.TryGetValue(key, out var service))
            return;
        var vs = IpvsMapping.VirtualService(service);
        try
        {
            client.DeleteService(vs);
        }
        catch (Netlink.NetlinkException e) when (e.Errno == 3 /* ESRCH: already gone */)
        {
        }
        applied.Remove(key);
        Save();
        hostStale = true;
    }

    /// <summary>A backend's ActiveConn + InActConn as the kernel counts them (graceful termination waits for 0).</summary>
    public long Connections(ServiceKey key, Backend backend)
    {
        if (!applied.TryGetValue(key, out var service))
            return 0;
        var d = client.GetDestinations(IpvsMapping.VirtualService(service))
            .FirstOrDefault(d => d.Address.Equals(backend.Address) && d.Port == backend.Port);
        return d is null ? 0 : (long)d.ActiveConns + d.InactiveConns;
    }

    /// <summary>Owned servers whose kernel state differs from what was applied (changed by hand, or gone).</summary>
    public IReadOnlyList<ServiceKey> FindDrift()
    {
        var kernel = client.GetServices();
        var drifted = new List<ServiceKey>();
        foreach (var (key, service) in applied)
        {
            var vs = IpvsMapping.VirtualService(service);
            var now = kernel.FirstOrDefault(s => SameKey(s, vs));
            if (now is null || !IpvsMapping.SameSettings(now, vs))
            {
                drifted.Add(key);
                continue;
            }
            var dests = client.GetDestinations(vs);
            var wanted = service.Backends.Select(b => IpvsMapping.Destination(service, b)).ToList();
            if (dests.Count != wanted.Count || wanted.Any(w => !dests.Any(d => SameDest(d, w) && IpvsMapping.SameDestination(d, w))))
                drifted.Add(key);
        }
        return drifted;
    }

    /// <summary>The kernel's view of the owned servers: what `xdplb list` prints.</summary>
    public IReadOnlyList<(IpvsService Service, IReadOnlyList<IpvsDestination> Destinations)> Snapshot()
    {
        var kernel = client.GetServices();
        return applied.Values.Select(IpvsMapping.VirtualService)
            .Select(vs => kernel.FirstOrDefault(k => SameKey(k, vs)))
            .OfType<IpvsService>()
            .Select(k => (k, client.GetDestinations(k)))
            .ToList();
    }

    /// <summary>The nftables table and the dummy interface go (after every owned server was removed).</summary>
    public void RemoveHostState()
    {
        host.Remove();
        if (applied.Count == 0 && File.Exists(stateFile))
            File.Delete(stateFile);
    }

    public void EndSync()
    {
        if (!hostStale)
            return;
        RefreshHost();
        hostStale = false;
    }

    private void RefreshHost()
    {
        // VIPs go on the dummy interface unless the node already has them (NodePort on node
        // addresses), as kube-proxy binds ClusterIPs but not node IPs.
        var local = System.Net.NetworkInformation.NetworkInterface.GetAllNetworkInterfaces()
            .Where(i => i.Name != host.DummyInterface)
            .SelectMany(i => i.GetIPProperties().UnicastAddresses.Select(u => u.Address)).ToHashSet();
        var bound = applied.Keys.Select(k => k.Address).Where(a => !local.Contains(a)).ToHashSet();
        host.BindAddresses(bound);
        host.ApplyRules(applied.Values, masqPorts, clusterCidrs, bound);
    }

    private static bool SameKey(IpvsService a, IpvsService b) => a.Protocol == b.Protocol && a.Port == b.Port && a.Address.Equals(b.Address);

    private static bool SameDest(IpvsDestination a, IpvsDestination b) => a.Port == b.Port && a.Address.Equals(b.Address);

    private sealed record OwnedState(int Version, ServiceRecord[] Services);

    private void Save()
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(stateFile))!);
        string temporary = stateFile + ".tmp";
        File.WriteAllText(temporary, JsonSerializer.Serialize(new OwnedState(1, applied.Values.Select(ServiceRecord.Of).ToArray())));
        File.Move(temporary, stateFile, overwrite: true);
    }

    /// <summary>The virtual servers the state file says xdplb owns (none without the file), for cleanups.</summary>
    public static IReadOnlyList<IpvsService> OwnedVirtualServers(string stateFile) =>
        LoadOwned(stateFile).Select(IpvsMapping.VirtualService).ToList();

    private static IEnumerable<Service> LoadOwned(string path)
    {
        if (!File.Exists(path))
            return [];
        var state = JsonSerializer.Deserialize<OwnedState>(File.ReadAllText(path))
            ?? throw new InvalidDataException($"{path}: empty state file");
        if (state.Version != 1)
            throw new InvalidDataException($"{path} has version {state.Version}, this agent reads 1");
        return state.Services.Select(s => s.ToService());
    }
}
