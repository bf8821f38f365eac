namespace XdpLb.Bpf;

/// <summary>A VLAN device of the node: its name, VID and parent (eth0.100 on eth0, VID 100).</summary>
public sealed record VlanDevice(string Name, ushort Vid, string Parent);

/// <summary>
/// The node's VLAN devices as the kernel lists them in /proc/net/vlan/config (present
/// when the kernel has 802.1Q support; no file, no VLAN devices).
/// </summary>
public static class VlanDevices
{
    public const string ConfigFile = "/proc/net/vlan/config";

    public static IReadOnlyList<VlanDevice> Read(string path = ConfigFile)
    {
        try
        {
            return Parse(File.ReadAllText(path));
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return [];
        }
    }

    /// <summary>
    /// The table after its two header lines: "NAME | VID | PARENT" per device. A line of
    /// another shape is an error naming it, not a silently missing device.
    /// </summary>
    public static IReadOnlyList<VlanDevice> Parse(string text)
    {
        var devices = new List<VlanDevice>();
        foreach (var line in text.Split('\n').Skip(2))
        {
            if (string.IsNullOrWhiteSpace(line))
                continue;
            var fields = line.Split('|', StringSplitOptions.TrimEntries);
            if (fields.Length != 3 || fields[0].Length == 0 || fields[2].Length == 0 ||
                !ushort.TryParse(fields[1], out ushort vid) || vid > 4095)
                throw new FormatException($"{ConfigFile}: unexpected line \"{line.Trim()}\"");
            devices.Add(new VlanDevice(fields[0], vid, fields[2]));
        }
        return devices;
    }
}
