using CharacterGen.GraphRuntime.Jobs;
using CharacterGen.Server.Characters;
using CharacterGen.Server.Storage;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace CharacterGen.Server.Hosting;

public static class CharactersServiceCollectionExtensions
{
    /// <summary>
    /// The character pipeline (charactergen.v1.Characters): its tables live in the job store's database, its steps run
    /// on the shared engine, and its step workflows come from <c>characters/</c> in the workflows folder (or
    /// Characters:WorkflowsFolder). Running characters resume when the host starts.
    /// </summary>
    public static IServiceCollection AddCharacterGenCharacters(this IServiceCollection services, ServerOptions options)
    {
        var characters = options.Characters;
        services.TryAddSingleton(characters);
        services.TryAddSingleton(provider => new CharacterStore(provider.GetRequiredService<IJobStore>() as SqlJobStore
            ?? throw new InvalidOperationException("The character pipeline needs the SQL job store (SQLite or PostgreSQL).")));
        services.TryAddSingleton<CharacterEvents>();
        services.TryAddSingleton<StepRunner>();
        services.TryAddSingleton(new StepWorkflows(
            characters.WorkflowsFolder.Length > 0 ? characters.WorkflowsFolder : Path.Combine(options.WorkflowsDir, "characters"), characters));
        services.TryAddSingleton<CharacterRequests>();
        services.TryAddSingleton<CharacterPipeline>();
        services.AddHostedService(provider => provider.GetRequiredService<CharacterPipeline>());
        services.AddGrpcService<CharactersService>();
        return services;
    }
}
