using CharacterGen.Server.Assets;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace CharacterGen.Server.Hosting;

public static class AssetServiceCollectionExtensions
{
    /// <summary>The asset store under <paramref name="root"/> (stale uploads removed at start-up) and the Assets gRPC service.</summary>
    public static IServiceCollection AddCharacterGenAssets(this IServiceCollection services, AssetStoreOptions options, string root)
    {
        services.TryAddSingleton(options);
        services.TryAddSingleton(provider =>
        {
            var store = new AssetStore(root, options);
            store.DeleteStaleUploads();
            return store;
        });
        services.AddGrpcService<AssetsService>();
        return services;
    }
}
