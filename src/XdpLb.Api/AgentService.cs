using Grpc.Core;
using XdpLb.Api.V1;

namespace XdpLb.Api;

/// <summary>The xdplb.v1.Agent service over the running agent's view.</summary>
public sealed class AgentService(IAgentView view) : Agent.AgentBase
{
    public override Task<AgentStatus> GetStatus(GetStatusRequest request, ServerCallContext context) =>
        Task.FromResult(view.Status());

    public override Task<ListServicesResponse> ListServices(ListServicesRequest request, ServerCallContext context) =>
        Task.FromResult(view.Services());

    public override Task<ListConnectionsResponse> ListConnections(ListConnectionsRequest request, ServerCallContext context) =>
        Task.FromResult(view.Connections());

    public override Task<GetStatsResponse> GetStats(GetStatsRequest request, ServerCallContext context)
    {
        string? service = string.IsNullOrEmpty(request.Service) ? null : request.Service;
        var response = view.Stats(service);
        if (service is not null && response.Services.Count == 0)
            throw new RpcException(new Grpc.Core.Status(StatusCode.NotFound, $"no service {service} (expected ADDR:PORT/PROTO, e.g. 10.96.0.10:80/tcp)"));
        return Task.FromResult(response);
    }
}
