using System.Text;

namespace XdpLb.Bpf.Btf;

/// <summary>The naming convention between C (snake_case) and C# (PascalCase) twins.</summary>
public static class BtfNames
{
    public static string SnakeCase(string pascal)
    {
        var sb = new StringBuilder();
        for (int i = 0; i < pascal.Length; i++)
        {
            char c = pascal[i];
            if (char.IsUpper(c) && i > 0)
                sb.Append('_');
            sb.Append(char.ToLowerInvariant(c));
        }
        return sb.ToString();
    }

    public static string PascalCase(string snake) =>
        string.Concat(snake.ToLowerInvariant().Split('_', StringSplitOptions.RemoveEmptyEntries)
            .Select(part => char.ToUpperInvariant(part[0]) + part[1..]));
}
