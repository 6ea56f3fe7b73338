using CharacterGen.Server.ComfyApi;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace CharacterGen.Server.Hosting;

public static class ComfyApiExtensions
{
    /// <summary>
    /// The ComfyUI-compatible HTTP/WebSocket API over the shared engine (see <see cref="EngineServiceCollectionExtensions"/>):
    /// its options, the WebSocket hub, the relay from job events to sockets, file addressing and uploads.
    /// </summary>
    public static IServiceCollection AddComfyApi(this IServiceCollection services, ComfyApiOptions options)
    {
        services.TryAddSingleton(options);
        services.TryAddSingleton<ComfySocketHub>();
        services.TryAddSingleton<ComfyJobRelay>();
        services.AddHostedService(provider => provider.GetRequiredService<ComfyJobRelay>());
        services.TryAddSingleton<ComfyFiles>();
        services.TryAddSingleton<ComfyUploads>();
        return services;
    }

    /// <summary>Every ComfyUI route as <c>/x</c> and <c>/api/x</c>, behind the access middleware (auth, origin, host).</summary>
    public static WebApplication MapComfyApi(this WebApplication app) => ComfyApiEndpoints.Map(app);
}
