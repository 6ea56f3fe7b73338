using Grpc.AspNetCore.Server;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Hosting;

namespace CharacterGen.Server.Grpc.Health;

/// <summary>
/// Declares an entry per mapped gRPC service at start-up, and turns everything NOT_SERVING the
/// moment shutdown begins, before in-flight calls drain.
/// </summary>
internal sealed class HealthLifecycle(HealthState health, EndpointDataSource endpoints, IHostApplicationLifetime lifetime)
    : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        // Endpoints are complete once the pipeline is built, which happens as the web server starts.
        lifetime.ApplicationStarted.Register(DeclareServices);
        lifetime.ApplicationStopping.Register(health.EnterShutdown);
        return Task.CompletedTask;
    }

    private void DeclareServices()
    {
        var services = endpoints.Endpoints
            .Select(e => e.Metadata.GetMetadata<GrpcMethodMetadata>()?.Method.ServiceName)
            .OfType<string>()
            .Where(name => name.Length > 0)
            .Distinct(StringComparer.Ordinal);
        foreach (var service in services) health.Declare(service, ServingStatus.Serving);
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        health.EnterShutdown();
        return Task.CompletedTask;
    }
}
