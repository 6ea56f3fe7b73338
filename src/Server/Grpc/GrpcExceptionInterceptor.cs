using Grpc.Core;
using Grpc.Core.Interceptors;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace CharacterGen.Server.Grpc;

/// <summary>
/// Turns what a handler throws into its status through <see cref="GrpcErrorMapping"/>. Without it the library
/// answers UNKNOWN "Exception was thrown by handler."; here a bug becomes INTERNAL with a correlation id that the
/// error log line (with the exception) carries too. Cancellation by the client or the deadline passes through.
/// </summary>
public sealed partial class GrpcExceptionInterceptor(ILogger<GrpcExceptionInterceptor> logger) : Interceptor
{
    public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(
        TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        try { return await continuation(request, context); }
        catch (Exception e) when (Translate(e, context) is { } status) { throw status; }
    }

    public override async Task<TResponse> ClientStreamingServerHandler<TRequest, TResponse>(
        IAsyncStreamReader<TRequest> requestStream, ServerCallContext context, ClientStreamingServerMethod<TRequest, TResponse> continuation)
    {
        try { return await continuation(requestStream, context); }
        catch (Exception e) when (Translate(e, context) is { } status) { throw status; }
    }

    public override async Task ServerStreamingServerHandler<TRequest, TResponse>(
        TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context,
        ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        try { await continuation(request, responseStream, context); }
        catch (Exception e) when (Translate(e, context) is { } status) { throw status; }
    }

    public override async Task DuplexStreamingServerHandler<TRequest, TResponse>(
        IAsyncStreamReader<TRequest> requestStream, IServerStreamWriter<TResponse> responseStream, ServerCallContext context,
        DuplexStreamingServerMethod<TRequest, TResponse> continuation)
    {
        try { await continuation(requestStream, responseStream, context); }
        catch (Exception e) when (Translate(e, context) is { } status) { throw status; }
    }

    /// <summary>The exception to throw instead, or null to let this one through unchanged.</summary>
    private RpcException? Translate(Exception error, ServerCallContext context)
    {
        // The call is over for the client (cancel, deadline, dropped connection): the library reports that itself.
        if (error is OperationCanceledException && context.CancellationToken.IsCancellationRequested) return null;
        if (GrpcErrorMapping.Map(error) is { } mapped) return ReferenceEquals(mapped, error) ? null : mapped;
        var correlationId = context.GetHttpContext().TraceIdentifier;
        LogUnhandled(logger, context.Method, correlationId, error);
        return GrpcErrorMapping.Internal(correlationId);
    }

    [LoggerMessage(EventId = 2, Level = LogLevel.Error, Message = "gRPC {Method} failed; correlation id {CorrelationId}")]
    private static partial void LogUnhandled(ILogger logger, string method, string correlationId, Exception exception);
}
