using Grpc.Core;
using XdpLb.Api;

namespace XdpLb.Agent;

/// <summary>Calls the running agent's local API; a missing agent is a clear error, not a stack trace.</summary>
internal static class ApiCall
{
    public static T Run<T>(string socketPath, Func<Api.V1.Agent.AgentClient, T> call)
    {
        if (!File.Exists(socketPath))
            throw new UsageException($"no agent API at {socketPath}: is `xdplb run` running (with --api-socket {socketPath})?");
        var client = AgentClient.Connect(socketPath, out var channel);
        using (channel)
        {
            try
            {
                return call(client);
            }
            catch (RpcException e) when (e.StatusCode == StatusCode.Unavailable)
            {
                throw new UsageException($"the agent at {socketPath} does not answer: {e.Status.Detail}");
            }
            catch (RpcException e)
            {
                throw new UsageException($"the agent refused: {e.Status.Detail}");
            }
        }
    }

    public static string Json(Google.Protobuf.IMessage message) =>
        new Google.Protobuf.JsonFormatter(Google.Protobuf.JsonFormatter.Settings.Default.WithFormatDefaultValues(true)).Format(message) + "\n";
}
