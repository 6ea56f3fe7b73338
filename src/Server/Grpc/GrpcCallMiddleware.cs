using System.Diagnostics;
using System.Text.RegularExpressions;
using Grpc.AspNetCore.Server;
using Grpc.Core;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Logging;

namespace CharacterGen.Server.Grpc;

/// <summary>
/// What Grpc.AspNetCore does not do for us, in front of every gRPC, gRPC-Web and transcoded JSON call:
/// <list type="bullet">
/// <item>authentication before anything else, also for unknown methods (the library answers UNIMPLEMENTED before
/// interceptors run, which would let an anonymous caller discover methods); health is exempt so probes work;</item>
/// <item>UNIMPLEMENTED naming the unknown service or method or an unsupported <c>grpc-encoding</c>, INTERNAL for a
/// malformed <c>grpc-timeout</c> (the library would silently run such a call without a deadline), HTTP 415 for
/// <c>application/grpc+json</c> (the library would parse JSON as protobuf); <c>grpc-accept-encoding</c> on every answer;</item>
/// <item>one log line per call with method, status, duration and peer, also for calls the library ends before a
/// handler runs (unknown method, unreadable or oversized message), which an interceptor never sees.</item>
/// </list>
/// </summary>
public sealed partial class GrpcCallMiddleware(
    RequestDelegate next, GrpcAuthenticator authenticator, EndpointDataSource endpoints, ILogger<GrpcCallMiddleware> logger)
{
    private const string HealthPrefix = "/grpc.health.v1.Health/";
    private HashSet<string>? _knownMethods;

    public async Task InvokeAsync(HttpContext context)
    {
        var method = context.GetEndpoint()?.Metadata.GetMetadata<GrpcMethodMetadata>();
        var wire = GrpcWire.IsGrpcRequest(context.Request.ContentType);
        if (!wire && method is null)
        {
            await next(context);
            return;
        }

        var name = wire ? context.Request.Path.Value ?? "" : method!.Method.FullName;
        var started = Stopwatch.GetTimestamp();
        var anonymous = name.StartsWith(HealthPrefix, StringComparison.Ordinal);
        StatusCode? refused = null;
        try
        {
            if (wire && !GrpcWire.IsSupportedContentType(context.Request.ContentType))
                refused = GrpcWire.RejectContentType(context.Response, context.Request.ContentType);
            else if (Refusal(context, name, wire, anonymous) is { } status)
                refused = await RefuseAsync(context, status, wire);
            else if (wire)
                context.Response.Headers[GrpcWire.AcceptEncodingHeader] = GrpcWire.SupportedEncodings;
            if (refused is null) await next(context);
        }
        finally
        {
            var code = refused ?? GrpcWire.OutcomeOf(context);
            var level = code switch
            {
                StatusCode.Internal or StatusCode.Unknown or StatusCode.DataLoss => LogLevel.Error,
                _ when anonymous => LogLevel.Debug,
                _ => LogLevel.Information,
            };
            LogCall(logger, level, name, code, Stopwatch.GetElapsedTime(started).TotalMilliseconds,
                GrpcWire.Peer(context.Connection), context.TraceIdentifier);
        }
    }

    private Status? Refusal(HttpContext context, string name, bool wire, bool anonymous)
    {
        // Unauthenticated callers learn nothing, not even which methods exist.
        if (!anonymous && !authenticator.IsAuthenticated(context.Request.Headers))
            return new Status(StatusCode.Unauthenticated, "Missing or invalid credentials: send x-api-key or authorization: Bearer.");
        if (!wire) return null;
        if (!KnownMethods().Contains(name)) return new Status(StatusCode.Unimplemented, DescribeUnknown(name));
        if (context.Request.Headers[GrpcWire.EncodingHeader].ToString() is { Length: > 0 } encoding && !GrpcWire.IsSupportedEncoding(encoding))
            return new Status(StatusCode.Unimplemented,
                $"Unsupported grpc-encoding '{(encoding.Length <= 16 ? encoding : encoding[..16])}'. Supported: {GrpcWire.SupportedEncodings}.");
        if (context.Request.Headers[GrpcWire.TimeoutHeader].ToString() is { Length: > 0 } timeout && !TimeoutFormat().IsMatch(timeout))
            return new Status(StatusCode.Internal, $"Malformed grpc-timeout '{(timeout.Length <= 16 ? timeout : timeout[..16])}'.");
        return null;
    }

    private static async Task<StatusCode> RefuseAsync(HttpContext context, Status status, bool wire)
    {
        if (wire) GrpcWire.WriteTrailersOnly(context.Response, context.Request.ContentType, status);
        else await GrpcWire.WriteJsonErrorAsync(context.Response, status);
        return status.StatusCode;
    }

    private string DescribeUnknown(string path)
    {
        var parts = path.TrimStart('/').Split('/', 2);
        var serviceKnown = parts.Length == 2 && KnownMethods().Any(m => m.StartsWith("/" + parts[0] + "/", StringComparison.Ordinal));
        return serviceKnown
            ? $"Method '{parts[1]}' of service '{parts[0]}' is not implemented."
            : $"Service '{parts[0]}' is not implemented.";
    }

    /// <summary>"/package.Service/Method" of every mapped method (read once, after start-up mapped them all).</summary>
    private HashSet<string> KnownMethods() => _knownMethods ??= endpoints.Endpoints
        .Select(e => e.Metadata.GetMetadata<GrpcMethodMetadata>())
        .Where(m => m is not null && m.Method.Name.Length > 0)
        .Select(m => m!.Method.FullName)
        .ToHashSet(StringComparer.Ordinal);

    /// <summary>The gRPC spec's TimeoutValue (at most 8 digits) and TimeoutUnit.</summary>
    [GeneratedRegex("^[0-9]{1,8}[HMSmun]$")]
    private static partial Regex TimeoutFormat();

    [LoggerMessage(EventId = 1, Message = "gRPC {Method} {StatusCode} in {ElapsedMs:0.0} ms from {Peer} (request {RequestId})")]
    private static partial void LogCall(ILogger logger, LogLevel level, string method, StatusCode statusCode,
        double elapsedMs, string peer, string requestId);
}
