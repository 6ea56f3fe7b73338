using CharacterGen.Server.ModelsApi;
using CharacterGen.Server.WorkflowsApi;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace CharacterGen.Server.Hosting;

public static class WorkflowsApiServiceCollectionExtensions
{
    /// <summary>
    /// The charactergen.v1 Workflows and Models gRPC services over the shared engine (see
    /// <see cref="EngineServiceCollectionExtensions"/>), saved workflows from <see cref="ServerOptions.WorkflowsDir"/>,
    /// and the readiness checks that report a full queue, an unreadable models folder or a failed device.
    /// </summary>
    public static IServiceCollection AddCharacterGenWorkflowsApi(this IServiceCollection services, ServerOptions options)
    {
        services.TryAddSingleton(new SavedWorkflows(options.WorkflowsDir));
        services.TryAddSingleton<WorkflowSpecReader>();
        services.TryAddSingleton<OutputFiles>();
        services.TryAddSingleton<QueueReadiness>();
        services.AddHostedService(provider => provider.GetRequiredService<QueueReadiness>());
        services.TryAddSingleton<ResourceReadiness>();
        services.AddHostedService(provider => provider.GetRequiredService<ResourceReadiness>());
        services.AddGrpcService<WorkflowsService>();
        services.AddGrpcService<ModelsService>();
        return services;
    }
}
