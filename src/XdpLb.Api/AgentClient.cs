using System.Net.Sockets;
using Grpc.Net.Client;
using XdpLb.Api.V1;

namespace XdpLb.Api;

/// <summary>A client of the local API over its unix socket, as the CLI uses it.</summary>
public static class AgentClient
{
    public static Agent.AgentClient Connect(string socketPath, out GrpcChannel channel)
    {
        var handler = new SocketsHttpHandler
        {
            ConnectCallback = async (_, cancel) =>
            {
                var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                try
                {
                    await socket.ConnectAsync(new UnixDomainSocketEndPoint(socketPath), cancel);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            },
        };
        channel = GrpcChannel.ForAddress("http://xdplb", new GrpcChannelOptions { HttpHandler = handler });
        return new Agent.AgentClient(channel);
    }
}
