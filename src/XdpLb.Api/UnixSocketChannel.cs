using System.Net.Sockets;
using Grpc.Net.Client;

namespace XdpLb.Api;

/// <summary>
/// A gRPC channel to the agent's unix socket (HTTP/2 without TLS: the socket's mode 0600 is
/// the access control). Also compiled into the integration tests, which talk to the agent
/// through the proto's generated clients alone.
/// </summary>
public static class UnixSocketChannel
{
    public static GrpcChannel Open(string socketPath) =>
        // The host name is never resolved: every connection goes to the socket.
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
