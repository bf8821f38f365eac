using k8s;
using k8s.Models;
using YamlDotNet.RepresentationModel;

namespace XdpLb.Kubernetes.Tests;

/// <summary>
/// deploy/*.yaml loaded with KubernetesClient's typed, strict YAML loader (an unknown or
/// misspelled field fails, as `kubectl apply --validate=strict` would), then checked for
/// what the agent relies on in a cluster: its command, node name, probes, mounts, the
/// capabilities it runs with and the RBAC it reads the API with.
/// </summary>
public class DeployManifestTests
{
    private const string Namespace = "kube-system";
    private const int HealthzPort = 10256;
    private const string KubeProxyConfigPath = "/etc/xdplb/kube-proxy.yaml";

    // The capabilities 03-daemonset.yaml argues for, one by one; a change there must be
    // argued again here.
    private static readonly string[] Capabilities = ["NET_ADMIN", "NET_RAW", "BPF", "PERFMON", "SYS_ADMIN", "SYS_RESOURCE"];

    private static readonly Lazy<IReadOnlyList<object>> Loaded = new(LoadDeployDirectory);

    private static IReadOnlyList<object> Objects => Loaded.Value;

    private static V1DaemonSet DaemonSet => Assert.Single(Objects.OfType<V1DaemonSet>());

    private static V1Container Agent => Assert.Single(DaemonSet.Spec.Template.Spec.Containers);

    [Fact]
    public void EveryManifestLoadsStrictlyAndLivesInKubeSystem()
    {
        Assert.NotEmpty(Objects);
        foreach (var o in Objects)
        {
            var meta = Assert.IsAssignableFrom<IKubernetesObject<V1ObjectMeta>>(o).Metadata;
            Assert.False(string.IsNullOrEmpty(meta.Name), $"a {o.GetType().Name} has no name");
            if (o is not (V1ClusterRole or V1ClusterRoleBinding))
                Assert.Equal(Namespace, meta.NamespaceProperty);
        }
    }

    [Fact]
    public void StrictLoaderRejectsAnUnknownField()
    {
        const string valid = """
            apiVersion: v1
            kind: ServiceAccount
            metadata:
              name: probe
            """;
        Assert.IsType<V1ServiceAccount>(Assert.Single(KubernetesYaml.LoadAllFromString(valid, typeMap: null, strict: true)));

        string misspelled = valid + "\nautomountServiceAccountTokn: false\n";
        var e = Assert.ThrowsAny<YamlDotNet.Core.YamlException>(() => KubernetesYaml.LoadAllFromString(misspelled, typeMap: null, strict: true));
        Assert.Contains("automountServiceAccountTokn", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void DaemonSetRunsOnEveryNodeInTheHostNetwork()
    {
        var ds = DaemonSet;
        Assert.Equal("xdplb", ds.Metadata.Name);
        var pod = ds.Spec.Template.Spec;
        Assert.True(pod.HostNetwork);
        Assert.Equal("ClusterFirstWithHostNet", pod.DnsPolicy);
        Assert.Equal("system-node-critical", pod.PriorityClassName);
        Assert.Contains(pod.Tolerations, t => t.OperatorProperty == "Exists" && t.Key is null && t.Effect is null);
        Assert.NotNull(pod.TerminationGracePeriodSeconds);
        Assert.Equal("RollingUpdate", ds.Spec.UpdateStrategy.Type);
        Assert.Equal("1", ds.Spec.UpdateStrategy.RollingUpdate.MaxUnavailable.Value);
        foreach (var (key, value) in ds.Spec.Selector.MatchLabels)
            Assert.Equal(value, ds.Spec.Template.Metadata.Labels[key]);
    }

    [Fact]
    public void AgentRunsTheKubernetesSourceWithTheMountedKubeProxyConfig()
    {
        var agent = Agent;
        Assert.False(string.IsNullOrWhiteSpace(agent.Image));
        var argv = (agent.Command ?? []).Concat(agent.Args ?? []).ToList();
        int run = argv.IndexOf("run");
        Assert.True(run >= 0, $"no `run` in: {string.Join(' ', argv)}");
        Assert.Contains("--kubernetes", argv.Skip(run + 1));
        Assert.Equal(KubeProxyConfigPath, FlagValue(argv, "--kube-proxy-config"));
        Assert.Equal("auto", FlagValue(argv, "--dataplane"));
        Assert.EndsWith($":{HealthzPort}", FlagValue(argv, "--healthz-address"), StringComparison.Ordinal);
        // The socket hooks attach at the host's cgroup root, mounted in; not at the pod's own.
        string cgroupRoot = FlagValue(argv, "--cgroup-root");
        Assert.Contains(agent.VolumeMounts, m => m.MountPath == cgroupRoot);

        // The path is a key of the ConfigMap mounted at its directory.
        var mount = Assert.Single(agent.VolumeMounts, m => m.MountPath == Path.GetDirectoryName(KubeProxyConfigPath));
        var volume = Assert.Single(DaemonSet.Spec.Template.Spec.Volumes, v => v.Name == mount.Name);
        var configMap = Assert.Single(Objects.OfType<V1ConfigMap>(), c => c.Metadata.Name == volume.ConfigMap?.Name);
        Assert.Contains(Path.GetFileName(KubeProxyConfigPath), configMap.Data.Keys);
    }

    [Fact]
    public void AgentGetsItsNodeNameFromThePodSpec()
    {
        var nodeName = Assert.Single(Agent.Env, e => e.Name == "NODE_NAME");
        Assert.Null(nodeName.Value);
        Assert.Equal("spec.nodeName", nodeName.ValueFrom.FieldRef.FieldPath);
    }

    [Fact]
    public void ProbesUseKubeProxysHealthEndpoints()
    {
        AssertHttpGet(Agent.LivenessProbe, "/livez");
        AssertHttpGet(Agent.ReadinessProbe, "/healthz");
        Assert.True(Agent.LivenessProbe.FailureThreshold * Agent.LivenessProbe.PeriodSeconds >= 30,
            "liveness must not restart the agent over a few slow answers");
    }

    [Theory]
    [InlineData("/sys/fs/bpf", "/sys/fs/bpf", "HostToContainer", false)]
    [InlineData("/run/xdplb", "/run/xdplb", null, false)]
    [InlineData("/var/lib/xdplb", "/var/lib/xdplb", null, false)]
    [InlineData("/lib/modules", "/lib/modules", null, true)]
    [InlineData("/run/xtables.lock", "/run/xtables.lock", null, false)]
    [InlineData("/host/sys/fs/cgroup", "/sys/fs/cgroup", "HostToContainer", true)]
    public void AgentMountsTheHostPathsItUses(string mountPath, string hostPath, string? propagation, bool readOnly)
    {
        var mount = Assert.Single(Agent.VolumeMounts, m => m.MountPath == mountPath);
        Assert.Equal(propagation, mount.MountPropagation);
        Assert.Equal(readOnly, mount.ReadOnlyProperty ?? false);
        var volume = Assert.Single(DaemonSet.Spec.Template.Spec.Volumes, v => v.Name == mount.Name);
        Assert.Equal(hostPath, volume.HostPath?.Path);
    }

    [Fact]
    public void PinnedStateAndApiSocketLiveInHostDirectoriesThatOutliveThePod()
    {
        var volumes = DaemonSet.Spec.Template.Spec.Volumes;
        foreach (string path in new[] { "/sys/fs/bpf", "/run/xdplb", "/var/lib/xdplb" })
        {
            var mount = Assert.Single(Agent.VolumeMounts, m => m.MountPath == path);
            Assert.Equal("DirectoryOrCreate", Assert.Single(volumes, v => v.Name == mount.Name).HostPath.Type);
        }
    }

    [Fact]
    public void EveryMountNamesADeclaredVolume()
    {
        var pod = DaemonSet.Spec.Template.Spec;
        var declared = pod.Volumes.Select(v => v.Name).ToList();
        Assert.Equal(declared.Count, declared.Distinct().Count());
        foreach (var c in pod.Containers.Concat(pod.InitContainers ?? []))
            foreach (var m in c.VolumeMounts ?? [])
                Assert.True(declared.Contains(m.Name), $"container {c.Name} mounts {m.MountPath} from undeclared volume {m.Name}");
    }

    [Fact]
    public void AgentIsNotPrivilegedAndAddsOnlyTheArguedCapabilities()
    {
        var sc = Agent.SecurityContext;
        Assert.NotEqual(true, sc.Privileged);
        Assert.Equal(["ALL"], sc.Capabilities.Drop);
        Assert.Equal(Capabilities.Order(StringComparer.Ordinal), sc.Capabilities.Add.Order(StringComparer.Ordinal));
        Assert.Null(DaemonSet.Spec.Template.Spec.SecurityContext?.Sysctls);
    }

    [Fact]
    public void ServiceAccountIsTheOneBoundAndTheOneTheDaemonSetRunsAs()
    {
        var account = Assert.Single(Objects.OfType<V1ServiceAccount>());
        var binding = Assert.Single(Objects.OfType<V1ClusterRoleBinding>());
        var role = Assert.Single(Objects.OfType<V1ClusterRole>());

        Assert.Equal(account.Metadata.Name, DaemonSet.Spec.Template.Spec.ServiceAccountName);
        Assert.Equal(account.Metadata.NamespaceProperty, DaemonSet.Metadata.NamespaceProperty);
        var subject = Assert.Single(binding.Subjects);
        Assert.Equal(("ServiceAccount", account.Metadata.Name, account.Metadata.NamespaceProperty),
            (subject.Kind, subject.Name, subject.NamespaceProperty));
        Assert.Equal(("rbac.authorization.k8s.io", "ClusterRole", role.Metadata.Name),
            (binding.RoleRef.ApiGroup, binding.RoleRef.Kind, binding.RoleRef.Name));
    }

    [Fact]
    public void ClusterRoleOnlyListsAndWatchesServicesNodesAndEndpointslices()
    {
        var role = Assert.Single(Objects.OfType<V1ClusterRole>());
        var granted = new HashSet<(string Group, string Resource, string Verb)>();
        foreach (var rule in role.Rules)
        {
            Assert.Null(rule.NonResourceURLs);
            Assert.Null(rule.ResourceNames);
            foreach (string group in rule.ApiGroups)
                foreach (string resource in rule.Resources)
                    foreach (string verb in rule.Verbs)
                        granted.Add((group, resource, verb));
        }
        var expected = new HashSet<(string, string, string)>();
        foreach (var (group, resource) in new[] { ("", "services"), ("", "nodes"), ("discovery.k8s.io", "endpointslices") })
            foreach (string verb in new[] { "list", "watch" })
                expected.Add((group, resource, verb));
        Assert.Equal(expected.Order(), granted.Order());
    }

    [Fact]
    public void ConfigMapHoldsAKubeProxyConfigurationInIpvsMode()
    {
        var configMap = Assert.Single(Objects.OfType<V1ConfigMap>(), c => c.Metadata.Name == "xdplb-config");
        var yaml = new YamlStream();
        yaml.Load(new StringReader(configMap.Data["kube-proxy.yaml"]));
        var root = Assert.IsType<YamlMappingNode>(Assert.Single(yaml.Documents).RootNode);
        Assert.Equal("KubeProxyConfiguration", Scalar(root, "kind"));
        Assert.Equal("kubeproxy.config.k8s.io/v1alpha1", Scalar(root, "apiVersion"));
        Assert.Equal("ipvs", Scalar(root, "mode"));
        var ipvs = Assert.IsType<YamlMappingNode>(root.Children[new YamlScalarNode("ipvs")]);
        Assert.Equal("rr", Scalar(ipvs, "scheduler"));
        // What the agent will make of it: read by the same reader as --kube-proxy-config.
        var settings = KubeProxyConfigFile.Parse(configMap.Data["kube-proxy.yaml"], "deploy/02-configmap.yaml");
        Assert.Equal(XdpLb.Core.Model.Scheduler.Rr, settings.Scheduler);
        Assert.NotEmpty(settings.ClusterCidrs);
        Assert.Empty(settings.Warnings);
    }

    private static void AssertHttpGet(V1Probe? probe, string path)
    {
        Assert.NotNull(probe);
        Assert.Equal(path, probe.HttpGet.Path);
        Assert.Equal(HealthzPort.ToString(System.Globalization.CultureInfo.InvariantCulture), probe.HttpGet.Port.Value);
        Assert.True(probe.TimeoutSeconds >= 1);
    }

    private static string FlagValue(List<string> argv, string flag)
    {
        int i = argv.IndexOf(flag);
        Assert.True(i >= 0 && i + 1 < argv.Count, $"{flag} has no value in: {string.Join(' ', argv)}");
        return argv[i + 1];
    }

    private static string? Scalar(YamlMappingNode map, string key) =>
        map.Children.TryGetValue(new YamlScalarNode(key), out var node) ? ((YamlScalarNode)node).Value : null;

    private static IReadOnlyList<object> LoadDeployDirectory()
    {
        string deploy = Path.Combine(RepoRoot(), "deploy");
        var files = Directory.GetFiles(deploy, "*.yaml").Order(StringComparer.Ordinal).ToList();
        Assert.NotEmpty(files);
        var objects = new List<object>();
        foreach (string file in files)
        {
            var loaded = KubernetesYaml.LoadAllFromString(File.ReadAllText(file), typeMap: null, strict: true);
            Assert.True(loaded.Count > 0, $"{file} holds no object");
            objects.AddRange(loaded);
        }
        return objects;
    }

    private static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "XdpLb.sln")))
                return dir.FullName;
        throw new DirectoryNotFoundException($"no XdpLb.sln above {AppContext.BaseDirectory}");
    }
}
