using Grpc.Core;

namespace XdpLb.Api.Controller;

/// <summary>The write API's refusals: a gRPC status with a message that names what and why.</summary>
internal static class ApiError
{
    public static RpcException Invalid(string message) => New(StatusCode.InvalidArgument, message);
    public static RpcException Invalid(IReadOnlyList<string> errors) => New(StatusCode.InvalidArgument, string.Join("; ", errors));
    public static RpcException NotFound(string message) => New(StatusCode.NotFound, message);
    public static RpcException Exists(string message) => New(StatusCode.AlreadyExists, message);
    public static RpcException Denied(string message) => New(StatusCode.PermissionDenied, message);
    public static RpcException Stale(string message) => New(StatusCode.FailedPrecondition, message);
    public static RpcException Exhausted(string message) => New(StatusCode.ResourceExhausted, message);
    public static RpcException Unavailable(string message) => New(StatusCode.Unavailable, message);

    private static RpcException New(StatusCode code, string message) => new(new Status(code, message));
}
