using Grpc.Health.V1;

namespace CharacterGen.Server.Grpc.Health;

/// <summary>grpc.health.v1.Health over <see cref="HealthState"/>. Exempt from authentication so probes work.</summary>
public sealed class HealthService(HealthState health) : IGrpcService
{
    public void Register(GrpcServiceRegistry registry)
    {
        var service = HealthReflection.Descriptor.Services.Single();
        registry
            .AddUnary<HealthCheckRequest, HealthCheckResponse>(service.FindMethodByName("Check"), CheckAsync)
            .AddUnary<HealthListRequest, HealthListResponse>(service.FindMethodByName("List"), ListAsync)
            .AddServerStreaming<HealthCheckRequest, HealthCheckResponse>(service.FindMethodByName("Watch"), WatchAsync)
            .AllowAnonymous(service.FullName);
    }

    private Task<HealthCheckResponse> CheckAsync(HealthCheckRequest request, CallContext context)
    {
        if (!health.TryGetStatus(request.Service, out var status))
            throw new RpcException(StatusCode.NotFound, $"Unknown service '{request.Service}'.");
        return Task.FromResult(new HealthCheckResponse { Status = ToProto(status) });
    }

    private Task<HealthListResponse> ListAsync(HealthListRequest request, CallContext context)
    {
        var response = new HealthListResponse();
        foreach (var (name, status) in health.Snapshot())
            response.Statuses[name] = new HealthCheckResponse { Status = ToProto(status) };
        return Task.FromResult(response);
    }

    private async Task WatchAsync(HealthCheckRequest request, IServerStreamWriter<HealthCheckResponse> responses, CallContext context)
    {
        await foreach (var status in health.WatchAsync(request.Service, context.CancellationToken))
        {
            var proto = status is { } known ? ToProto(known) : HealthCheckResponse.Types.ServingStatus.ServiceUnknown;
            await responses.WriteAsync(new HealthCheckResponse { Status = proto });
        }
        // Watch only ends by itself on shutdown; UNAVAILABLE tells clients to reconnect elsewhere.
        throw new RpcException(StatusCode.Unavailable, "Server is shutting down.");
    }

    private static HealthCheckResponse.Types.ServingStatus ToProto(ServingStatus status) => status switch
    {
        ServingStatus.Serving => HealthCheckResponse.Types.ServingStatus.Serving,
        ServingStatus.NotServing => HealthCheckResponse.Types.ServingStatus.NotServing,
        _ => HealthCheckResponse.Types.ServingStatus.Unknown,
    };
}
