using CharacterGen.Server.ModelsApi;
using CharacterGen.Server.WorkflowsApi;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace CharacterGen.Server.Hosting;

public static class WorkflowsApiServiceCollectionExtensions
{
    /// <summary>
    /// The charactergen.v1 Workflows and Models gRPC services over the shared engine (see
    /// <see cref="EngineServiceCollectionExtensions"/>), saved workflows from <see cref="ServerOptions.WorkflowsDir"/>,
    /// and the readiness check that reports a full queue.
    /// </summary>
    public static IServiceCollection AddCharacterGenWorkflowsApi(this IServiceCollection services, ServerOptions options)
    {
        services.TryAddSingleton(new SavedWorkflows(options.WorkflowsDir));
        services.TryAddSingleton<WorkflowSpecReader>();
        services.TryAddSingleton<OutputFiles>();
        services.TryAddSingleton<QueueReadiness>();
        services.AddHostedService(provider => provider.GetRequiredService<QueueReadiness>());
        services.AddGrpcService<WorkflowsService>();
        services.AddGrpcService<ModelsService>();
        return services;
    }
}
