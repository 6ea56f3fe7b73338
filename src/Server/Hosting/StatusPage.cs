using CharacterGen.Server.Assets;
using CharacterGen.Server.Grpc;
using CharacterGen.Server.Grpc.Health;

namespace CharacterGen.Server.Hosting;

/// <summary>
/// A small JSON page at <c>GET /status</c>: health, the gRPC endpoint, and the limits
/// clients must respect (advertised, as the architecture asks).
/// </summary>
public static class StatusPage
{
    public static IEndpointRouteBuilder MapStatusPage(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/status", Render);
        return endpoints;
    }

    private static IResult Render(
        HealthState health, ServerEndpoints endpoints, GrpcServerOptions grpc, AuthOptions auth, AssetStoreOptions assets)
    {
        var statuses = health.Snapshot();
        return Results.Json(new
        {
            service = "charactergen",
            version = typeof(StatusPage).Assembly.GetName().Version?.ToString(3),
            status = statuses.GetValueOrDefault(HealthState.Server).ToString(),
            health = statuses.ToDictionary(entry => entry.Key.Length == 0 ? "server" : entry.Key, entry => entry.Value.ToString()),
            grpc = new
            {
                port = endpoints.GrpcPort,
                tls = endpoints.GrpcUsesTls,
                authentication = auth.Enabled,
                reflection = grpc.EnableReflection,
                responseCompression = grpc.ResponseCompression,
            },
            limits = new
            {
                maxReceiveMessageBytes = grpc.MaxReceiveMessageBytes,
                maxSendMessageBytes = grpc.MaxSendMessageBytes,
                maxUploadBytes = assets.MaxUploadBytes,
            },
        });
    }
}
