using Grpc.Core;
using Grpc.Health.V1;

namespace CharacterGen.Server.Grpc.Health;

/// <summary>
/// grpc.health.v1.Health over <see cref="HealthState"/>: changes are seen at once (no polling of health
/// checks), List is served, and Watch ends UNAVAILABLE on shutdown. Exempt from authentication so probes work.
/// </summary>
public sealed class HealthService(HealthState health) : global::Grpc.Health.V1.Health.HealthBase
{
    public override Task<HealthCheckResponse> Check(HealthCheckRequest request, ServerCallContext context)
    {
        if (!health.TryGetStatus(request.Service, out var status))
            throw new RpcException(new Status(StatusCode.NotFound, $"Unknown service '{request.Service}'."));
        return Task.FromResult(new HealthCheckResponse { Status = ToProto(status) });
    }

    public override Task<HealthListResponse> List(HealthListRequest request, ServerCallContext context)
    {
        var response = new HealthListResponse();
        foreach (var (name, status) in health.Snapshot())
            response.Statuses[name] = new HealthCheckResponse { Status = ToProto(status) };
        return Task.FromResult(response);
    }

    public override async Task Watch(HealthCheckRequest request, IServerStreamWriter<HealthCheckResponse> responseStream, ServerCallContext context)
    {
        await foreach (var status in health.WatchAsync(request.Service, context.CancellationToken))
        {
            var proto = status is { } known ? ToProto(known) : HealthCheckResponse.Types.ServingStatus.ServiceUnknown;
            await responseStream.WriteAsync(new HealthCheckResponse { Status = proto });
        }
        // Watch only ends by itself on shutdown; UNAVAILABLE tells clients to reconnect elsewhere.
        throw new RpcException(new Status(StatusCode.Unavailable, "Server is shutting down."));
    }

    private static HealthCheckResponse.Types.ServingStatus ToProto(ServingStatus status) => status switch
    {
        ServingStatus.Serving => HealthCheckResponse.Types.ServingStatus.Serving,
        ServingStatus.NotServing => HealthCheckResponse.Types.ServingStatus.NotServing,
        _ => HealthCheckResponse.Types.ServingStatus.Unknown,
    };
}
