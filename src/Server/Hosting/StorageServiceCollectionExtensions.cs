using CharacterGen.GraphRuntime.Jobs;
using CharacterGen.Server.Storage;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace CharacterGen.Server.Hosting;

/// <summary>
/// The durable job store the engine writes through: SQLite (jobs.db in the data folder) unless
/// <see cref="ServerOptions.Database"/> names a PostgreSQL database. Opening it creates or migrates the schema.
/// </summary>
public static class StorageServiceCollectionExtensions
{
    public static IServiceCollection AddCharacterGenJobStore(this IServiceCollection services, ServerOptions options)
    {
        // Tests may register their own store first.
        services.TryAddSingleton<IJobStore>(_ => DatabaseOption.IsPostgres(options.Database)
            ? new PostgresJobStore(options.Database!)
            : new SqliteJobStore(Path.Combine(options.DataDir, SqliteJobStore.DefaultFileName)));
        services.AddHostedService<JobStoreStartup>();
        if (DatabaseOption.IsPostgres(options.Database))
            services.AddHostedService(provider => new SharedQueueReadiness(
                (GraphRuntime.Jobs.ISharedJobStore)provider.GetRequiredService<IJobStore>(), provider.GetRequiredService<GraphRuntime.Engine.WorkflowEngine>(),
                provider.GetRequiredService<Grpc.Health.ReadyConditions>(), provider.GetRequiredService<Grpc.Health.HealthState>(), options,
                provider.GetRequiredService<ILogger<SharedQueueReadiness>>()));
        return services;
    }

    /// <summary>Logs store writes that failed after the fact (the job went on in memory).</summary>
    public static void LogStoreFailures(this GraphRuntime.Engine.WorkflowEngine engine, ILogger logger) =>
        engine.StoreWriteFailed += (jobId, error) =>
            logger.LogError(error, "Could not record job {JobId} in the job store; after a crash it would run again", jobId);
}
