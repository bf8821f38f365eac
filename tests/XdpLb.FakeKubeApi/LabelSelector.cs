namespace XdpLb.FakeKubeApi;

/// <summary>
/// A parsed labelSelector: comma-joined terms <c>key</c>, <c>!key</c>, <c>key=v</c>,
/// <c>key==v</c>, <c>key!=v</c>, <c>key in (a,b)</c>, <c>key notin (a,b)</c>; all must hold.
/// As in Kubernetes, <c>key!=v</c> and <c>notin</c> also match objects without the label.
/// </summary>
internal sealed class LabelSelector
{
    public static readonly LabelSelector Everything = new([]);

    private readonly IReadOnlyList<Func<IReadOnlyDictionary<string, string>, bool>> terms;

    private LabelSelector(IReadOnlyList<Func<IReadOnlyDictionary<string, string>, bool>> terms) => this.terms = terms;

    public bool Matches(IReadOnlyDictionary<string, string> labels) => terms.All(t => t(labels));

    /// <exception cref="FormatException">the selector is not one the fake understands</exception>
    public static LabelSelector Parse(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
            return Everything;
        return new LabelSelector(SplitTerms(text).Select(ParseTerm).ToList());
    }

    // Commas separate terms except inside the parentheses of a set.
    private static IEnumerable<string> SplitTerms(string text)
    {
        int depth = 0, start = 0;
        for (int i = 0; i < text.Length; i++)
        {
            if (text[i] == '(')
                depth++;
            else if (text[i] == ')')
                depth--;
            else if (text[i] == ',' && depth == 0)
            {
                yield return text[start..i].Trim();
                start = i + 1;
            }
        }
        yield return text[start..].Trim();
    }

    private static Func<IReadOnlyDictionary<string, string>, bool> ParseTerm(string term)
    {
        if (term.Length == 0)
            throw new FormatException("empty label selector term");
        if (term[0] == '!')
        {
            string key = ValidKey(term[1..].Trim());
            return labels => !labels.ContainsKey(key);
        }
        int notEquals = term.IndexOf("!=", StringComparison.Ordinal);
        if (notEquals >= 0)
        {
            string key = ValidKey(term[..notEquals].Trim()), value = term[(notEquals + 2)..].Trim();
            return labels => !labels.TryGetValue(key, out var v) || v != value;
        }
        int equals = term.IndexOf('=');
        if (equals >= 0)
        {
            string key = ValidKey(term[..equals].Trim());
            string value = term[(term.AsSpan(equals).StartsWith("==") ? equals + 2 : equals + 1)..].Trim();
            return labels => labels.TryGetValue(key, out var v) && v == value;
        }
        if (TryParseSet(term, " notin ", out var notInKey, out var notInValues))
            return labels => !labels.TryGetValue(notInKey, out var v) || !notInValues.Contains(v);
        if (TryParseSet(term, " in ", out var inKey, out var inValues))
            return labels => labels.TryGetValue(inKey, out var v) && inValues.Contains(v);
        string existsKey = ValidKey(term);
        return labels => labels.ContainsKey(existsKey);
    }

    private static bool TryParseSet(string term, string op, out string key, out HashSet<string> values)
    {
        key = "";
        values = [];
        int at = term.IndexOf(op, StringComparison.Ordinal);
        if (at < 0)
            return false;
        string set = term[(at + op.Length)..].Trim();
        if (set.Length < 2 || set[0] != '(' || set[^1] != ')')
            throw new FormatException($"label selector set without parentheses: '{term}'");
        key = ValidKey(term[..at].Trim());
        values = set[1..^1].Split(',', StringSplitOptions.TrimEntries).ToHashSet();
        return true;
    }

    private static string ValidKey(string key)
    {
        if (key.Length == 0 || key.Any(c => char.IsWhiteSpace(c) || c is '(' or ')' or '!' or '=' or ','))
            throw new FormatException($"invalid label key '{key}'");
        return key;
    }
}
