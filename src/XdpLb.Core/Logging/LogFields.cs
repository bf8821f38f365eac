using System.Collections;

namespace XdpLb.Core.Logging;

/// <summary>
/// A log line's state: a fixed message and its key=value fields, in order. It is shaped as a
/// message template's state (name/value pairs ending with {OriginalFormat}), so that every
/// logging provider sees the fields as structured values, while the message stays the same
/// text whatever the values: operators and tests grep for it.
/// </summary>
public sealed class LogFields(string message, IReadOnlyList<(string Key, object? Value)> fields) : IReadOnlyList<KeyValuePair<string, object?>>
{
    public const string OriginalFormat = "{OriginalFormat}";

    public string Message => message;

    public int Count => fields.Count + 1;

    public KeyValuePair<string, object?> this[int index] =>
        index < fields.Count ? new(fields[index].Key, fields[index].Value)
        : index == fields.Count ? new(OriginalFormat, message)
        : throw new ArgumentOutOfRangeException(nameof(index));

    public IEnumerator<KeyValuePair<string, object?>> GetEnumerator()
    {
        for (int i = 0; i < Count; i++)
            yield return this[i];
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    public override string ToString() => message;
}
