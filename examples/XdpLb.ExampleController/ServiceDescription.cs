using System.Net;
using System.Text.Json;
using Google.Protobuf;
using XdpLb.Api.V1;

namespace XdpLb.ExampleController;

/// <summary>
/// The services this controller wants: a JSON array of ServiceSpec in protobuf's JSON
/// mapping (the config file's field names, camelCase or snake_case).
/// </summary>
public static class ServiceDescription
{
    private static readonly JsonParser Parser = new(JsonParser.Settings.Default.WithIgnoreUnknownFields(false));

    public static IReadOnlyList<ServiceSpec> Read(string path)
    {
        using var document = JsonDocument.Parse(File.ReadAllText(path));
        if (document.RootElement.ValueKind != JsonValueKind.Array)
            throw new InvalidDataException($"{path}: expected a JSON array of services");
        return document.RootElement.EnumerateArray().Select(e => Parser.Parse<ServiceSpec>(e.GetRawText())).ToList();
    }

    public static ServiceRef RefOf(ServiceSpec spec) => new() { Address = spec.Address, Port = spec.Port, Protocol = spec.Protocol };

    /// <summary>"ADDR:PORT/PROTO" with the agent's defaults, so that a spec and the agent's copy of it compare equal.</summary>
    public static string KeyOf(ServiceSpec spec) => KeyOf(spec.Address, spec.Port, spec.Protocol);

    public static string KeyOf(string address, uint port, string protocol) =>
        $"{EndpointOf(address, port)}/{(protocol.Length == 0 ? "tcp" : protocol.ToLowerInvariant())}";

    public static string EndpointOf(string address, uint port)
    {
        string canonical = IPAddress.TryParse(address, out var parsed) ? parsed.ToString() : address;
        return canonical.Contains(':') ? $"[{canonical}]:{port}" : $"{canonical}:{port}";
    }
}
