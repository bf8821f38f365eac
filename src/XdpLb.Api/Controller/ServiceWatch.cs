using System.Threading.Channels;
using XdpLb.Api.V1;

namespace XdpLb.Api.Controller;

/// <summary>One watcher's events; disposing it stops them.</summary>
public sealed class ServiceWatch(ChannelReader<ServiceEvent> events, Action stop) : IDisposable
{
    public ChannelReader<ServiceEvent> Events => events;

    public void Dispose() => stop();
}
