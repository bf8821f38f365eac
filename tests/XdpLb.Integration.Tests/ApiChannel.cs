using System.Net.Sockets;
using Grpc.Net.Client;

namespace XdpLb.Integration.Tests;

/// <summary>A gRPC channel to the agent's unix socket, as any controller would open it.</summary>
public static class ApiChannel
{
    public static GrpcChannel Open(string socketPath) =>
        GrpcChannel.ForAddress("http://xdplb", new GrpcChannelOptions
        {
            HttpHandler = new SocketsHttpHandler
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
            },
        });
}
