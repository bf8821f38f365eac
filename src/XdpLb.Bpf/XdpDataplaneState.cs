using System.Text.Json;
using XdpLb.Core.Model;

namespace XdpLb.Bpf;

/// <summary>
/// What the XDP dataplane knows beyond the maps (service and backend ids, each service's
/// IPVS list order and last weights), saved in --state-dir after every change so that a
/// restarted agent adopting the pinned maps continues exactly where the last one stopped.
/// </summary>
public sealed record XdpDataplaneState(
    int Version,
    XdpDataplaneState.AppliedDto[] Services,
    XdpDataplaneState.BackendIdDto[] BackendIds,
    uint[] ReleasedBackendIds,
    uint NextBackendId,
    uint[] ReleasedServiceIds,
    uint NextServiceId)
{
    public const int CurrentVersion = 1;

    public sealed record AppliedDto(ServiceRecord Service, uint Id, uint Generation, int[] SlotCounts, BackendRecord[] ListOrder, ushort[] LastWeights);

    public sealed record BackendIdDto(string ServiceAddress, ushort ServicePort, string ServiceProtocol, string Address, ushort Port, uint Id);

    private static readonly JsonSerializerOptions Json = new() { WriteIndented = false };

    public void Save(string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        string temporary = path + ".tmp";
        // Streamed: for 10,000 services the file is tens of MB, which as one string would
        // grow the agent's heap for good.
        using (var file = File.Create(temporary))
            JsonSerializer.Serialize(file, this, Json);
        File.Move(temporary, path, overwrite: true); // atomic: a crash leaves the old file or the new one
    }

    public static XdpDataplaneState? TryLoad(string path, out string? problem)
    {
        problem = null;
        if (!File.Exists(path))
        {
            problem = $"{path} does not exist";
            return null;
        }
        try
        {
            XdpDataplaneState? state;
            using (var file = File.OpenRead(path))
                state = JsonSerializer.Deserialize<XdpDataplaneState>(file, Json);
            if (state is null || state.Version != CurrentVersion)
            {
                problem = $"{path} has version {state?.Version}, this agent reads {CurrentVersion}";
                return null;
            }
            return state;
        }
        catch (Exception e) when (e is JsonException or IOException or NotSupportedException)
        {
            problem = $"{path} cannot be read: {e.Message}";
            return null;
        }
    }
}
