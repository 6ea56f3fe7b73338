using CharacterGen.GraphRuntime.Engine;
using CharacterGen.GraphRuntime.Jobs;
using CharacterGen.GraphRuntime.Contracts;
using CharacterGen.GraphRuntime.Observability;
using CharacterGen.Nodes;
using CharacterGen.Nodes.Files;
using CharacterGen.Nodes.ModelCaching;
using CharacterGen.Nodes.Runtime;
using CharacterGen.Nodes.Sampling;
using CharacterGen.Server.Cli;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace CharacterGen.Server.Hosting;

/// <summary>
/// The one workflow engine every transport shares (gRPC, the ComfyUI HTTP API), with its node catalogue, the models
/// tree and the data folders. A job submitted through one transport is visible through the others.
/// </summary>
public static class EngineServiceCollectionExtensions
{
    public static IServiceCollection AddCharacterGenEngine(this IServiceCollection services, ServerOptions options)
    {
        services.AddSingleton(options.OpenModelFolders());
        services.TryAddSingleton(ModelAliases.From(options.ModelAliases)); // validated with the options

        services.AddSingleton(_ =>
        {
            var folders = new DataFolders(options.DataDir);
            folders.EnsureCreated();
            return folders;
        });
        // Tests replace the catalogue with their own nodes by registering a NodeCatalog before this runs.
        services.TryAddSingleton(provider => BuiltinNodes.Catalog(
            provider.GetRequiredService<ModelFolders>(), provider.GetRequiredService<DataFolders>(), provider.GetRequiredService<ModelAliases>()));
        // One tensor thread runs every job; the model cache keeps weights loaded between jobs (device: CHARACTERGEN_DEVICE).
        services.TryAddSingleton(_ =>
        {
            TorchSetup.ConfigureThreads();
            return new TensorExecutionThread();
        });
        services.TryAddSingleton(provider => new ModelCache(ModelCacheOptions.FromEnvironment(), provider.GetService<Telemetry>()));
        services.TryAddSingleton(new LatentPreviewOptions());
        // Validation refuses workflows whose estimated peak exceeds this; VAE nodes tile to stay under it. The default
        // follows the device the weights go to (free VRAM on CUDA, host memory on the CPU).
        services.TryAddSingleton(provider =>
        {
            if (options.MemoryBudgetBytes is { } bytes) return new MemoryBudget(bytes);
            var choice = DefaultMemoryBudget.For(provider.GetRequiredService<ModelCache>().Options.Device);
            provider.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(MemoryBudget))
                .LogInformation("Memory budget {Bytes} bytes: {Source}", choice.Budget.Bytes, choice.Source);
            return choice.Budget;
        });
        services.AddCharacterGenJobStore(options);
        services.AddSingleton(provider =>
        {
            _ = provider.GetRequiredService<MemoryBudget>(); // measured (and logged) now, before any weights take memory
            // With PostgreSQL the engine is one node of a shared queue (docs/deploy.md); SQLite keeps its own queue.
            var engineOptions = CharacterGen.Server.Storage.DatabaseOption.IsPostgres(options.Database) && options.Engine.Shared is null
                ? options.Engine with { Shared = options.Cluster.SharedQueue(options.ShutdownTimeoutSeconds) }
                : options.Engine;
            var engine = new WorkflowEngine(provider.GetRequiredService<NodeCatalog>(), engineOptions, provider,
                provider.GetRequiredService<TensorExecutionThread>(), store: provider.GetRequiredService<IJobStore>(),
                telemetry: provider.GetService<Telemetry>());
            engine.LogStoreFailures(provider.GetRequiredService<ILoggerFactory>().CreateLogger<WorkflowEngine>());
            return engine;
        });
        return services;
    }
}
