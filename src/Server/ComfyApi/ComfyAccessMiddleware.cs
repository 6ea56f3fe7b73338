using System.Net;
using CharacterGen.Server.Grpc;
using CharacterGen.Server.Hosting;
using Microsoft.Extensions.Primitives;

namespace CharacterGen.Server.ComfyApi;

/// <summary>Marks an endpoint of the ComfyUI API; <see cref="QueryToken"/> also accepts <c>?token=</c> (browsers' WebSockets cannot set headers).</summary>
public sealed record ComfyApiRoute(bool QueryToken = false);

/// <summary>
/// Guards the ComfyUI routes (status page and gRPC are not affected):
/// <list type="bullet">
/// <item>with API keys or bearer tokens configured, a request without one of them gets 401 (the same check as gRPC);</item>
/// <item>without authentication, ComfyUI's origin check: an <c>Origin</c> header whose host differs from <c>Host</c>
/// (including <c>Origin: null</c>) gets 403, so a web page cannot drive the server cross-site;</item>
/// <item>without authentication on a loopback address, a <c>Host</c> that is not a loopback name (or one of
/// <see cref="ComfyApiOptions.AllowedHosts"/>) gets 403, which defeats DNS rebinding.</item>
/// </list>
/// </summary>
public sealed class ComfyAccessMiddleware(RequestDelegate next, GrpcAuthenticator authenticator, ServerOptions server,
    ComfyApiOptions options, ILogger<ComfyAccessMiddleware> logger)
{
    private readonly bool _loopbackBound =
        ServerOptions.TryParseListenAddress(server.ListenAddress, out var address) && IPAddress.IsLoopback(address);

    public Task InvokeAsync(HttpContext context)
    {
        if (context.GetEndpoint()?.Metadata.GetMetadata<ComfyApiRoute>() is not { } route) return next(context);

        if (authenticator.Enabled)
        {
            if (authenticator.IsAuthenticated(context.Request.Headers) || QueryTokenMatches(context, route)) return next(context);
            context.Response.Headers.WWWAuthenticate = "Bearer";
            return Refuse(context, StatusCodes.Status401Unauthorized, "unauthorized",
                "Send an API key in x-api-key or a token in Authorization: Bearer.");
        }

        var host = context.Request.Headers.Host.ToString();
        if (_loopbackBound && !IsAllowedHost(host))
        {
            logger.LogWarning("Refused a request for host {Host}: the server is bound to loopback", host);
            return Refuse(context, StatusCodes.Status403Forbidden, "forbidden_host", "This server only answers requests addressed to localhost.");
        }
        if (context.Request.Headers.Origin is { Count: > 0 } origin && !SameHost(origin, host))
        {
            logger.LogWarning("Refused a cross-origin request from {Origin} to {Host}", origin.ToString(), host);
            return Refuse(context, StatusCodes.Status403Forbidden, "forbidden_origin", "Cross-origin requests are not allowed.");
        }
        return next(context);
    }

    private bool QueryTokenMatches(HttpContext context, ComfyApiRoute route)
    {
        if (!route.QueryToken || context.Request.Query["token"] is not { Count: 1 } token || string.IsNullOrEmpty(token[0])) return false;
        var presented = new HeaderDictionary
        {
            [GrpcAuthenticator.ApiKeyHeader] = token[0],
            [GrpcAuthenticator.AuthorizationHeader] = "Bearer " + token[0],
        };
        return authenticator.IsAuthenticated(presented);
    }

    /// <summary>ComfyUI's rule: the Origin's host[:port] (its "netloc") must equal the Host header, case-insensitively.</summary>
    private static bool SameHost(StringValues origin, string host)
    {
        if (origin.Count != 1 || origin[0] is not { } value) return false;
        var start = value.IndexOf("://", StringComparison.Ordinal);
        if (start <= 0) return false; // "null" (sandboxed frames, file://) and anything unparsable
        var netloc = value[(start + 3)..].TrimEnd('/');
        return netloc.Length > 0 && !netloc.Contains('/') && string.Equals(netloc, host, StringComparison.OrdinalIgnoreCase);
    }

    private bool IsAllowedHost(string host)
    {
        var parsed = HostString.FromUriComponent(host);
        if (!parsed.HasValue) return false;
        var name = parsed.Host.Trim('[', ']');
        if (string.Equals(name, "localhost", StringComparison.OrdinalIgnoreCase)) return true;
        if (IPAddress.TryParse(name, out var ip)) return IPAddress.IsLoopback(ip);
        return options.AllowedHosts.Contains(name, StringComparer.OrdinalIgnoreCase);
    }

    private static Task Refuse(HttpContext context, int status, string type, string message)
    {
        context.Response.StatusCode = status;
        return context.Response.WriteAsJsonAsync(new { error = new { type, message } });
    }
}
