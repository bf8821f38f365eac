using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace XdpLb.Kubernetes;

/// <summary>
/// CIDRs as kube-proxy reads them (Go's net.ParseCIDR): host bits may be set and are
/// masked off ("10.0.0.1/8" is 10.0.0.0/8), where .NET's IPNetwork.Parse would refuse.
/// </summary>
internal static class CidrText
{
    public static bool TryParse(string text, out IPNetwork network)
    {
        network = default;
        int slash = text.IndexOf('/');
        if (slash <= 0 || text.IndexOfAny(['%', '[', ']']) >= 0)
            return false;
        string prefixText = text[(slash + 1)..];
        if (!IPAddress.TryParse(text[..slash], out var address)
            || prefixText.Length is 0 or > 3
            || !int.TryParse(prefixText, NumberStyles.None, CultureInfo.InvariantCulture, out int prefix))
            return false;
        // IPAddress.TryParse also takes "10" or "10.1" as IPv4; Go does not.
        if (address.AddressFamily == AddressFamily.InterNetwork && text[..slash].Count(c => c == '.') != 3)
            return false;
        int bits = address.AddressFamily == AddressFamily.InterNetwork ? 32 : 128;
        if (prefix > bits)
            return false;
        byte[] bytes = address.GetAddressBytes();
        for (int bit = prefix; bit < bits; bit++)
            bytes[bit / 8] &= (byte)~(0x80 >> (bit % 8));
        network = new IPNetwork(new IPAddress(bytes), prefix);
        return true;
    }
}
