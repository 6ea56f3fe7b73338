using Microsoft.Extensions.Hosting;

namespace CharacterGen.Server.Grpc.Health;

/// <summary>
/// Declares an entry per registered gRPC service at start-up, and turns everything NOT_SERVING the
/// moment shutdown begins, before in-flight calls drain.
/// </summary>
internal sealed class HealthLifecycle(HealthState health, GrpcServiceRegistry registry, IHostApplicationLifetime lifetime)
    : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        foreach (var service in registry.ServiceNames) health.Declare(service, ServingStatus.Serving);
        lifetime.ApplicationStopping.Register(health.EnterShutdown);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        health.EnterShutdown();
        return Task.CompletedTask;
    }
}
