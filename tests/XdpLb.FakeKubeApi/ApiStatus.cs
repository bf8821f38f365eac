using System.Text.Json.Nodes;

namespace XdpLb.FakeKubeApi;

/// <summary>Status bodies, as the API server sends with an error response or a watch ERROR event.</summary>
internal static class ApiStatus
{
    // Written by hand: KubernetesClient's V1Status converter only reads.
    public static string Json(int code, string reason, string message) => new JsonObject
    {
        ["kind"] = "Status",
        ["apiVersion"] = "v1",
        ["metadata"] = new JsonObject(),
        ["status"] = "Failure",
        ["message"] = message,
        ["reason"] = reason,
        ["code"] = code,
    }.ToJsonString();

    public static string TooOld(long requested, long oldestAvailable) =>
        Json(410, "Expired", $"too old resource version: {requested} ({oldestAvailable})");

    public static string NotFound(string what) => Json(404, "NotFound", $"{what} not found");

    public static string BadRequest(string message) => Json(400, "BadRequest", message);

    /// <summary>The reason the real API server gives with each status an injected failure may use.</summary>
    public static string ForInjectedFailure(int code) => Json(code, code switch
    {
        400 => "BadRequest",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "NotFound",
        409 => "Conflict",
        410 => "Expired",
        429 => "TooManyRequests",
        503 => "ServiceUnavailable",
        504 => "Timeout",
        _ => "InternalError",
    }, $"injected failure ({code})");
}
