using System.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core.Features;
using Microsoft.Extensions.Logging;

namespace CharacterGen.Server.Grpc;

/// <summary>
/// The one endpoint behind <c>POST /{service}/{method}</c>: checks protocol, content type, method,
/// credentials and encoding; sets up the deadline; runs the handler; sends the status; logs one line.
/// </summary>
public sealed partial class GrpcDispatcher(
    GrpcServiceRegistry registry, GrpcServerOptions options, GrpcAuthenticator authenticator, ILogger<GrpcDispatcher> logger)
{
    private readonly record struct Outcome(GrpcStatus Status, Exception? Error = null, bool Quiet = false);

    public async Task HandleAsync(HttpContext http)
    {
        var started = Stopwatch.GetTimestamp();
        var outcome = await DispatchAsync(http);
        var elapsed = Stopwatch.GetElapsedTime(started);
        var level = outcome.Status.Code switch
        {
            StatusCode.Internal or StatusCode.Unknown or StatusCode.DataLoss => LogLevel.Error,
            _ when outcome.Quiet => LogLevel.Debug,
            _ => LogLevel.Information,
        };
        LogCall(logger, level, http.Request.Path.Value ?? "", outcome.Status.Code, elapsed.TotalMilliseconds,
            http.TraceIdentifier, outcome.Error);
    }

    private async Task<Outcome> DispatchAsync(HttpContext http)
    {
        var request = http.Request;
        if (!HttpProtocol.IsHttp2(request.Protocol) && !HttpProtocol.IsHttp3(request.Protocol))
            return Reject(http, StatusCodes.Status426UpgradeRequired,
                new(StatusCode.Internal, $"Request protocol '{request.Protocol}' is not supported; gRPC needs HTTP/2."));
        if (!GrpcProtocol.IsSupportedContentType(request.ContentType))
            return Reject(http, StatusCodes.Status415UnsupportedMediaType,
                new(StatusCode.Internal, $"Content-Type '{request.ContentType}' is not supported."));

        var path = request.Path.Value ?? "";
        var method = registry.Find(path);
        var authenticated = authenticator.IsAuthenticated(request.Headers);
        // Unauthenticated callers learn nothing, not even which methods exist.
        if (!authenticated && method is not { AllowAnonymous: true })
            return Reject(http, StatusCodes.Status200OK,
                new(StatusCode.Unauthenticated, "Missing or invalid credentials: send x-api-key or authorization: Bearer."));
        if (method is null)
            return Reject(http, StatusCodes.Status200OK, new(StatusCode.Unimplemented, DescribeUnknown(path)));

        var encoding = request.Headers[GrpcProtocol.Encoding].ToString();
        if (encoding.Length > 0 && !MessageCompression.IsSupported(encoding))
            return Reject(http, StatusCodes.Status200OK, new(StatusCode.Unimplemented,
                $"Unsupported grpc-encoding '{encoding}'. Supported: {MessageCompression.Supported}."));

        TimeSpan? timeout = null;
        if (request.Headers[GrpcProtocol.Timeout].ToString() is { Length: > 0 } timeoutHeader)
        {
            if (!GrpcTimeout.TryParse(timeoutHeader, out var parsed))
                return Reject(http, StatusCodes.Status200OK, new(StatusCode.Internal, $"Malformed grpc-timeout '{timeoutHeader}'."));
            if (parsed < GrpcTimeout.Longest) timeout = parsed;
        }

        RemoveHttpBodyLimits(http);
        var outcome = await RunAsync(http, method, encoding, timeout);
        return outcome with { Quiet = method.AllowAnonymous };
    }

    private async Task<Outcome> RunAsync(HttpContext http, GrpcMethod method, string encoding, TimeSpan? timeout)
    {
        using var deadline = new CancellationTokenSource();
        using var callToken = CancellationTokenSource.CreateLinkedTokenSource(http.RequestAborted, deadline.Token);
        var deadlineUtc = timeout is { } t ? DateTime.UtcNow + t : DateTime.MaxValue;

        var response = http.Response;
        response.ContentType = GrpcProtocol.ContentType;
        response.Headers[GrpcProtocol.AcceptEncoding] = MessageCompression.Supported;
        var context = new CallContext(http, method.Path, deadlineUtc, callToken.Token);
        var reader = new GrpcMessageReader(http.Request.BodyReader, options.MaxReceiveMessageBytes,
            encoding.Equals(MessageCompression.Gzip, StringComparison.OrdinalIgnoreCase));
        var writer = new GrpcMessageWriter(response.BodyWriter, options.MaxSendMessageBytes, ResponseGzipLevel(http));
        var call = new GrpcServerCall(http, context, reader, writer);

        if (timeout is { } armed) deadline.CancelAfter(armed);
        var handler = InvokeAsync(method, call);
        if (timeout is not null)
        {
            var expired = Task.Delay(Timeout.Infinite, deadline.Token);
            if (await Task.WhenAny(handler, expired) == expired && !handler.IsCompleted)
            {
                // Tell the client at once rather than when the handler gets round to stopping.
                var exceeded = new GrpcStatus(StatusCode.DeadlineExceeded, "Deadline exceeded.");
                await call.CompleteAsync(exceeded);
                try { await handler; } catch { /* it was cancelled; its status is already sent */ }
                return new Outcome(exceeded);
            }
        }

        Exception? error = null;
        try { await handler; }
        catch (Exception e) { error = e; }
        var status = StatusOf(error, deadline.IsCancellationRequested, http.RequestAborted.IsCancellationRequested, http.TraceIdentifier);
        await call.CompleteAsync(status);
        return new Outcome(status, status.Code == StatusCode.Internal && error is not RpcException ? error : null);
    }

    private static async Task InvokeAsync(GrpcMethod method, GrpcServerCall call) => await method.Invoke(call);

    /// <summary>The status for how a handler ended. Only <see cref="RpcException"/> text reaches the client.</summary>
    private static GrpcStatus StatusOf(Exception? error, bool deadlineExpired, bool clientAborted, string correlationId) => error switch
    {
        RpcException rpc => GrpcStatus.From(rpc),
        CharacterGen.Nodes.Files.StorageFullException full => new(StatusCode.ResourceExhausted, full.Message),
        _ when clientAborted => new(StatusCode.Cancelled, "Call cancelled by the client."),
        not null when deadlineExpired => new(StatusCode.DeadlineExceeded, "Deadline exceeded."),
        null => GrpcStatus.Ok,
        _ => new(StatusCode.Internal, $"Internal error. Correlation id: {correlationId}."),
    };

    private System.IO.Compression.CompressionLevel? ResponseGzipLevel(HttpContext http) =>
        options.ResponseCompression.Equals(MessageCompression.Gzip, StringComparison.OrdinalIgnoreCase)
        && MessageCompression.Accepts(http.Request.Headers[GrpcProtocol.AcceptEncoding].ToString(), MessageCompression.Gzip)
            ? options.ResponseCompressionLevel
            : null;

    private string DescribeUnknown(string path)
    {
        var parts = path.TrimStart('/').Split('/', 2);
        return parts.Length == 2 && registry.HasService(parts[0])
            ? $"Method '{parts[1]}' of service '{parts[0]}' is not implemented."
            : $"Service '{parts[0]}' is not implemented.";
    }

    /// <summary>Trailers-Only response: the status travels in the headers, there is no body.</summary>
    private static Outcome Reject(HttpContext http, int httpStatus, GrpcStatus status)
    {
        var response = http.Response;
        response.StatusCode = httpStatus;
        response.ContentType = GrpcProtocol.ContentType;
        response.Headers[GrpcProtocol.AcceptEncoding] = MessageCompression.Supported;
        StatusHeaders.Write(response.Headers, status);
        return new Outcome(status);
    }

    /// <summary>
    /// Our own message limits bound a call; Kestrel's body-size cap (30 MB) and minimum data rates
    /// would break long uploads and streams that idle legitimately (Watch, duplex).
    /// </summary>
    private static void RemoveHttpBodyLimits(HttpContext http)
    {
        if (http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } size) size.MaxRequestBodySize = null;
        if (http.Features.Get<IHttpMinRequestBodyDataRateFeature>() is { } requestRate) requestRate.MinDataRate = null;
        if (http.Features.Get<IHttpMinResponseDataRateFeature>() is { } responseRate) responseRate.MinDataRate = null;
    }

    [LoggerMessage(EventId = 1, Message = "gRPC {Method} {StatusCode} in {ElapsedMs:0.0} ms (request {RequestId})")]
    private static partial void LogCall(ILogger logger, LogLevel level, string method, StatusCode statusCode,
        double elapsedMs, string requestId, Exception? exception);
}
