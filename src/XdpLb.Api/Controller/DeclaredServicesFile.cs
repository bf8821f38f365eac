using System.Text.Json;
using XdpLb.Core.Model;

namespace XdpLb.Api.Controller;

/// <summary>
/// The API-declared services on the node (STATE_DIR/api-services.json), so that a restarted
/// agent serves them from its first sync. Written whole at each change: a temporary file,
/// flushed, then renamed over the old one, so a crash leaves the old state or the new one.
/// </summary>
public sealed class DeclaredServicesFile(string path)
{
    private const int Version = 1;

    private sealed record Stored(string Owner, ulong Generation, ServiceRecord Service);
    private sealed record Contents(int Version, Stored[] Services);

    public string Path => path;

    /// <summary>The stored services; none when there is no file. A file that cannot be read is an InvalidDataException naming it.</summary>
    public IReadOnlyList<DeclaredEntry> Load()
    {
        if (!File.Exists(path))
            return [];
        try
        {
            var contents = JsonSerializer.Deserialize<Contents>(File.ReadAllText(path))
                ?? throw new InvalidDataException("empty");
            if (contents.Version != Version)
                throw new InvalidDataException($"version {contents.Version}, this agent reads {Version}");
            return contents.Services.Select(s => new DeclaredEntry(s.Service.ToService(), s.Owner, s.Generation)).ToList();
        }
        catch (Exception e) when (e is JsonException or InvalidDataException or FormatException or IOException or NullReferenceException)
        {
            throw new InvalidDataException($"{path}: the API-declared services cannot be read ({e.Message}); " +
                "fix or remove the file (its services are then withdrawn)", e);
        }
    }

    public void Save(IEnumerable<DeclaredEntry> entries)
    {
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path))!);
        var contents = new Contents(Version, entries.Select(e => new Stored(e.Owner, e.Generation, ServiceRecord.Of(e.Service))).ToArray());
        string temporary = path + ".tmp";
        using (var stream = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            JsonSerializer.Serialize(stream, contents);
            stream.Flush(flushToDisk: true);
        }
        File.Move(temporary, path, overwrite: true);
    }
}
