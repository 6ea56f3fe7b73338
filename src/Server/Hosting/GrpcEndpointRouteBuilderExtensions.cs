using CharacterGen.Server.Grpc;

namespace CharacterGen.Server.Hosting;

public static class GrpcEndpointRouteBuilderExtensions
{
    /// <summary>
    /// Maps every registered gRPC service (with gRPC-Web and its transcoded JSON routes) and reflection, behind
    /// <see cref="GrpcCallMiddleware"/> (authentication, unknown methods, the per-call log line). gRPC-Web and the
    /// JSON routes answer on both ports; browsers use the HTTP port.
    /// </summary>
    public static WebApplication MapCharacterGenGrpc(this WebApplication app)
    {
        var options = app.Services.GetRequiredService<GrpcServerOptions>();
        var cors = options.WebAllowedOrigins.Length > 0;
        if (cors) app.UseCors();
        app.UseGrpcWeb(new GrpcWebOptions { DefaultEnabled = true });
        ServeOpenApiDocument(app);
        app.UseMiddleware<GrpcCallMiddleware>();

        foreach (var registration in app.Services.GetServices<GrpcServiceRegistration>())
        {
            _ = app.Services.GetRequiredService(registration.ServiceType); // construction errors fail start-up
            var service = registration.Map(app);
            if (cors) service.RequireCors(GrpcServiceCollectionExtensions.WebCorsPolicy);
        }
        if (options.EnableReflection) app.MapGrpcReflectionService();
        return app;
    }

    /// <summary><c>GET /openapi/v1.json</c>: the JSON routes, behind the same credentials as the routes themselves.</summary>
    private static void ServeOpenApiDocument(WebApplication app)
    {
        var authenticator = app.Services.GetRequiredService<GrpcAuthenticator>();
        app.UseWhen(context => context.Request.Path.StartsWithSegments(OpenApiPrefix), branch => branch.Use(async (context, next) =>
        {
            if (authenticator.IsAuthenticated(context.Request.Headers))
            {
                await next(context);
                return;
            }
            context.Response.StatusCode = StatusCodes.Status401Unauthorized;
            context.Response.Headers.WWWAuthenticate = "Bearer";
        }));
        app.UseSwagger(swagger => swagger.RouteTemplate = OpenApiPrefix.TrimStart('/') + "/{documentName}.json");
    }

    public const string OpenApiPrefix = "/openapi";
}
