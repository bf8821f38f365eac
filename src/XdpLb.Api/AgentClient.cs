using Grpc.Net.Client;
using XdpLb.Api.V1;

namespace XdpLb.Api;

/// <summary>A client of the local API over its unix socket, as the CLI uses it.</summary>
public static class AgentClient
{
    public static Agent.AgentClient Connect(string socketPath, out GrpcChannel channel)
    {
        channel = UnixSocketChannel.Open(socketPath);
        return new Agent.AgentClient(channel);
    }
}
