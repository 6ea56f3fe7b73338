using CharacterGen.Server.Grpc;
using CharacterGen.Server.Grpc.Health;
using CharacterGen.Server.Grpc.Reflection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace CharacterGen.Server.Hosting;

public static class GrpcServiceCollectionExtensions
{
    /// <summary>
    /// The gRPC transport: registry, dispatcher, authentication, health (grpc.health.v1) and, unless
    /// disabled, reflection. Services are added with <see cref="AddGrpcService{TService}"/>.
    /// </summary>
    public static IServiceCollection AddCharacterGenGrpc(this IServiceCollection services, GrpcServerOptions options, AuthOptions auth)
    {
        services.AddRouting();
        services.TryAddSingleton(options);
        services.TryAddSingleton(auth);
        services.TryAddSingleton<GrpcAuthenticator>();
        services.TryAddSingleton<GrpcDispatcher>();
        services.TryAddSingleton(BuildRegistry);

        services.TryAddSingleton<HealthState>();
        services.AddGrpcService<HealthService>();
        services.AddHostedService<HealthLifecycle>();
        if (options.EnableReflection) services.AddGrpcService<ReflectionService>();
        return services;
    }

    /// <summary>Adds a service class (a DI singleton) whose <see cref="IGrpcService.Register"/> adds its handlers.</summary>
    public static IServiceCollection AddGrpcService<TService>(this IServiceCollection services)
        where TService : class, IGrpcService
    {
        services.TryAddSingleton<TService>();
        services.AddSingleton<IGrpcService>(provider => provider.GetRequiredService<TService>());
        return services;
    }

    /// <summary>Adds handlers without a service class, e.g. <c>(registry, provider) =&gt; registry.AddUnary(…)</c>.</summary>
    public static IServiceCollection AddGrpcService(this IServiceCollection services, Action<GrpcServiceRegistry, IServiceProvider> register)
    {
        services.AddSingleton<IGrpcService>(provider => new DelegateGrpcService(registry => register(registry, provider)));
        return services;
    }

    private static GrpcServiceRegistry BuildRegistry(IServiceProvider provider)
    {
        var registry = new GrpcServiceRegistry();
        foreach (var service in provider.GetServices<IGrpcService>()) service.Register(registry);
        return registry;
    }

    private sealed class DelegateGrpcService(Action<GrpcServiceRegistry> register) : IGrpcService
    {
        public void Register(GrpcServiceRegistry registry) => register(registry);
    }
}
