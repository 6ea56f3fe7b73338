using CharacterGen.Server.Grpc;
using Microsoft.AspNetCore.Routing.Patterns;

namespace CharacterGen.Server.Hosting;

public static class GrpcEndpointRouteBuilderExtensions
{
    /// <summary>
    /// Maps <c>POST /{service}/{method}</c> to the gRPC dispatcher, for requests that look like gRPC
    /// (HTTP/2 or an application/grpc content type), so HTTP/1.1 routes of the same shape are unaffected.
    /// </summary>
    public static IEndpointConventionBuilder MapCharacterGenGrpc(this IEndpointRouteBuilder endpoints)
    {
        var dispatcher = endpoints.ServiceProvider.GetRequiredService<GrpcDispatcher>();
        _ = endpoints.ServiceProvider.GetRequiredService<GrpcServiceRegistry>(); // build now: registration errors fail start-up
        var pattern = RoutePatternFactory.Parse("/{service}/{method}", defaults: null,
            parameterPolicies: new { service = new GrpcRequestConstraint() });
        return endpoints.Map(pattern, dispatcher.HandleAsync)
            .WithMetadata(new HttpMethodMetadata(["POST"]))
            .WithDisplayName("gRPC");
    }

    private sealed class GrpcRequestConstraint : IRouteConstraint
    {
        public bool Match(HttpContext? httpContext, IRouter? route, string routeKey, RouteValueDictionary values, RouteDirection routeDirection) =>
            httpContext is null
            || HttpProtocol.IsHttp2(httpContext.Request.Protocol)
            || GrpcProtocol.IsGrpcContentType(httpContext.Request.ContentType);
    }
}
