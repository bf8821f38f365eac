using System.Threading.Channels;

namespace XdpLb.FakeKubeApi;

/// <summary>
/// One open watch as the store sees it: what it selects, and the queue of event lines its
/// connection writes out. The store calls its Offer/Expire/Drop methods under its lock, so
/// lines are queued in resourceVersion order.
/// </summary>
internal sealed class WatchSubscription(
    ResourceType type, string? ns, FieldSelector fields, LabelSelector labels, bool allowBookmarks)
{
    private readonly Channel<string> lines = Channel.CreateUnbounded<string>(new UnboundedChannelOptions { SingleReader = true });
    private readonly CancellationTokenSource dropped = new();

    public ResourceType Type => type;

    /// <summary>The newest resourceVersion this watch has been told about.</summary>
    public long LastResourceVersion { get; set; }

    public ChannelReader<string> Lines => lines.Reader;

    /// <summary>Cancelled when the connection is to be cut without a proper end.</summary>
    public CancellationToken Dropped => dropped.Token;

    public bool Selects(StoredObject obj) =>
        obj.Type == type && (ns is null || obj.Namespace == ns) && fields.Matches(obj) && labels.Matches(obj.Labels);

    /// <summary>
    /// Queues the event this watch sees for a change: an object that moves into the selection is
    /// ADDED, one that moves out is DELETED (its last selected state, stamped with the new version).
    /// </summary>
    public void Offer(Change change)
    {
        if (change.Current.Type != type)
            return;
        bool was = change.Previous is { } previous && Selects(previous);
        bool @is = change.Type != ChangeType.Deleted && Selects(change.Current);
        var line = (change.Type, was, @is) switch
        {
            (ChangeType.Added, _, true) => ObjectJson.EventLine("ADDED", change.Current.Json),
            (ChangeType.Modified, true, true) => ObjectJson.EventLine("MODIFIED", change.Current.Json),
            (ChangeType.Modified, false, true) => ObjectJson.EventLine("ADDED", change.Current.Json),
            (ChangeType.Modified, true, false) => ObjectJson.EventLine("DELETED",
                ObjectJson.WithResourceVersion(change.Previous!, change.ResourceVersion).Json),
            (ChangeType.Deleted, true, _) => ObjectJson.EventLine("DELETED", change.Current.Json),
            _ => null,
        };
        if (line is not null)
            Send(line, change.ResourceVersion);
    }

    public void OfferSynthetic(StoredObject obj)
    {
        if (Selects(obj))
            Send(ObjectJson.EventLine("ADDED", obj.Json), obj.ResourceVersion);
    }

    public void OfferBookmark(long rv)
    {
        if (allowBookmarks)
            Send(ObjectJson.EventLine("BOOKMARK", ObjectJson.Bookmark(type, rv)), rv);
    }

    /// <summary>A line as it is, e.g. an event the client cannot read.</summary>
    public void SendRaw(string line) => lines.Writer.TryWrite(line);

    /// <summary>An ERROR event with the given Status, then a clean end of the stream.</summary>
    public void Expire(string statusJson)
    {
        lines.Writer.TryWrite(ObjectJson.EventLine("ERROR", statusJson));
        lines.Writer.TryComplete();
    }

    /// <summary>Cuts the connection without ending the chunked body, as a network failure would.</summary>
    public void Drop()
    {
        lines.Writer.TryComplete();
        dropped.Cancel();
    }

    /// <summary>Ends the stream cleanly, as a watch timeout does.</summary>
    public void Close() => lines.Writer.TryComplete();

    private void Send(string line, long rv)
    {
        if (lines.Writer.TryWrite(line))
            LastResourceVersion = Math.Max(LastResourceVersion, rv);
    }
}
