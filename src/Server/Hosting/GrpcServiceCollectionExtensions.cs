using System.IO.Compression;
using CharacterGen.Server.Grpc;
using CharacterGen.Server.Grpc.Health;
using Grpc.Net.Compression;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace CharacterGen.Server.Hosting;

/// <summary>A gRPC service class to map at start-up (see <see cref="GrpcServiceCollectionExtensions.AddGrpcService{TService}"/>).</summary>
public sealed record GrpcServiceRegistration(Type ServiceType, Func<IEndpointRouteBuilder, GrpcServiceEndpointConventionBuilder> Map);

public static class GrpcServiceCollectionExtensions
{
    /// <summary>The CORS policy of gRPC-Web and JSON routes when <see cref="GrpcServerOptions.WebAllowedOrigins"/> is set.</summary>
    public const string WebCorsPolicy = "charactergen-grpc-web";

    /// <summary>
    /// Grpc.AspNetCore with our limits, compression and error mapping; JSON transcoding; authentication;
    /// health (grpc.health.v1) and, unless disabled, reflection. Services are added with <see cref="AddGrpcService{TService}"/>.
    /// </summary>
    public static IServiceCollection AddCharacterGenGrpc(this IServiceCollection services, GrpcServerOptions options, AuthOptions auth)
    {
        services.TryAddSingleton(options);
        services.TryAddSingleton(auth);
        services.TryAddSingleton<GrpcAuthenticator>();
        services.AddGrpc(grpc =>
        {
            grpc.MaxReceiveMessageSize = options.MaxReceiveMessageBytes;
            grpc.MaxSendMessageSize = options.MaxSendMessageBytes;
            // gzip only (the library would also offer deflate), at our level; responses compressed only when configured.
            grpc.CompressionProviders = [new GzipCompressionProvider(options.ResponseCompressionLevel)];
            grpc.ResponseCompressionAlgorithm = options.ResponseCompression == GrpcServerOptions.Gzip ? GrpcServerOptions.Gzip : null;
            grpc.ResponseCompressionLevel = options.ResponseCompressionLevel;
            grpc.EnableDetailedErrors = false;
            // GrpcCallMiddleware answers unknown services after authentication; plain HTTP routes stay free.
            grpc.IgnoreUnknownServices = true;
            grpc.Interceptors.Add<GrpcExceptionInterceptor>();
        }).AddJsonTranscoding(json =>
            // Without the detail types, a status with details renders as an empty HTTP 500.
            json.TypeRegistry = Google.Protobuf.Reflection.TypeRegistry.FromMessages(
                Google.Rpc.BadRequest.Descriptor, Google.Rpc.RetryInfo.Descriptor, Google.Rpc.ErrorInfo.Descriptor));
        if (options.EnableReflection) services.AddGrpcReflection();
        // The OpenAPI document of the JSON routes, generated from the same protos.
        services.AddGrpcSwagger();
        services.AddSwaggerGen(swagger => swagger.SwaggerDoc("v1", new Microsoft.OpenApi.Models.OpenApiInfo
        {
            Title = "CharacterGen",
            Version = "v1",
            Description = "JSON routes transcoded from the charactergen.v1 gRPC services (see docs/grpc.md).",
        }));
        if (options.WebAllowedOrigins.Length > 0)
            services.AddCors(cors => cors.AddPolicy(WebCorsPolicy, policy => policy
                .WithOrigins(options.WebAllowedOrigins)
                .AllowAnyMethod()
                .AllowAnyHeader()
                .WithExposedHeaders("grpc-status", "grpc-message", "grpc-status-details-bin", "grpc-encoding", "grpc-accept-encoding")));

        services.TryAddSingleton<HealthState>();
        services.TryAddSingleton<ReadyConditions>();
        services.AddGrpcService<HealthService>();
        services.AddHostedService<HealthLifecycle>();
        return services;
    }

    /// <summary>Adds a service class (a DI singleton deriving from a generated <c>*Base</c>), mapped by <c>MapCharacterGenGrpc</c>.</summary>
    public static IServiceCollection AddGrpcService<TService>(this IServiceCollection services)
        where TService : class
    {
        services.TryAddSingleton<TService>();
        services.AddSingleton(new GrpcServiceRegistration(typeof(TService), endpoints => endpoints.MapGrpcService<TService>()));
        return services;
    }
}
