namespace XdpLb.FakeKubeApi;

/// <summary>
/// A parsed fieldSelector over the fields every resource supports: <c>metadata.name</c> and
/// <c>metadata.namespace</c>, with <c>=</c>, <c>==</c> or <c>!=</c>, comma-joined.
/// </summary>
internal sealed class FieldSelector
{
    public static readonly FieldSelector Everything = new([]);

    private readonly IReadOnlyList<Func<StoredObject, bool>> terms;

    private FieldSelector(IReadOnlyList<Func<StoredObject, bool>> terms) => this.terms = terms;

    public bool Matches(StoredObject obj) => terms.All(t => t(obj));

    /// <exception cref="FormatException">a term names an unsupported field or has no operator</exception>
    public static FieldSelector Parse(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
            return Everything;
        return new FieldSelector(text.Split(',', StringSplitOptions.TrimEntries).Select(ParseTerm).ToList());
    }

    private static Func<StoredObject, bool> ParseTerm(string term)
    {
        bool negated;
        string field, value;
        int notEquals = term.IndexOf("!=", StringComparison.Ordinal);
        int equals = term.IndexOf('=');
        if (notEquals >= 0)
            (negated, field, value) = (true, term[..notEquals], term[(notEquals + 2)..]);
        else if (equals >= 0)
            (negated, field, value) = (false, term[..equals], term[(term.AsSpan(equals).StartsWith("==") ? equals + 2 : equals + 1)..]);
        else
            throw new FormatException($"invalid field selector term '{term}'");

        Func<StoredObject, string> read = field.Trim() switch
        {
            "metadata.name" => o => o.Name,
            "metadata.namespace" => o => o.Namespace,
            _ => throw new FormatException($"field label not supported: {field.Trim()}"),
        };
        value = value.Trim();
        return o => (read(o) == value) != negated;
    }
}
