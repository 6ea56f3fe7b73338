using CharacterGen.GraphRuntime.Engine;
using CharacterGen.GraphRuntime.Nodes;
using CharacterGen.Nodes;
using CharacterGen.Nodes.Files;
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
        services.AddSingleton(new ModelFolders(options.ModelsDir));
        services.AddSingleton(_ =>
        {
            var folders = new DataFolders(options.DataDir);
            folders.EnsureCreated();
            return folders;
        });
        // Tests replace the catalogue with their own nodes by registering a NodeCatalog before this runs.
        services.TryAddSingleton(_ => BuiltinNodes.Catalog());
        services.AddSingleton(provider => new WorkflowEngine(
            provider.GetRequiredService<NodeCatalog>(), options.Engine, provider));
        return services;
    }
}
