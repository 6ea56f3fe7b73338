using Google.Protobuf;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace CharacterGen.Server.Grpc;

/// <summary>
/// One call in flight: reads request messages, writes response messages and finally the status.
/// Writes and completion share a lock because a deadline completes the call from the dispatcher while
/// the handler may still be writing.
/// </summary>
internal sealed class GrpcServerCall(
    HttpContext http, CallContext context, GrpcMessageReader reader, GrpcMessageWriter writer)
{
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private bool _headersApplied;
    private bool _completed;

    public CallContext Context => context;

    /// <summary>The next request message or null at end of stream; <paramref name="cancellationToken"/> already includes the call's.</summary>
    public ValueTask<T?> ReadAsync<T>(MessageParser<T> parser, CancellationToken cancellationToken) where T : IMessage<T> =>
        reader.ReadAsync(parser, cancellationToken);

    /// <summary>The single request of a unary or server-streaming call; the client must then half-close.</summary>
    public async Task<T> ReadSingleRequestAsync<T>(MessageParser<T> parser) where T : IMessage<T>
    {
        var token = context.CancellationToken;
        var request = await reader.ReadAsync(parser, token)
            ?? throw new RpcException(StatusCode.Internal, "Request stream ended without a request message.");
        if (await reader.ReadAsync(parser, token) is not null)
            throw new RpcException(StatusCode.Internal, "Received more than one request message for a method that takes one.");
        return request;
    }

    public async Task WriteAsync(IMessage message, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(message);
        await _writeLock.WaitAsync(cancellationToken);
        try
        {
            if (_completed)
                throw new RpcException(StatusCode.Cancelled, "The call has already completed.");
            ApplyResponseHeaders();
            writer.Write(message);
            await http.Response.BodyWriter.FlushAsync(cancellationToken);
        }
        finally
        {
            _writeLock.Release();
        }
    }

    /// <summary>
    /// Sends the status: in trailers after messages, or as a Trailers-Only response (status in the
    /// headers) when nothing has been sent yet. Later writes fail. Does nothing after a client abort.
    /// </summary>
    public async Task CompleteAsync(GrpcStatus status)
    {
        await _writeLock.WaitAsync();
        try
        {
            if (_completed) return;
            _completed = true;
            if (http.RequestAborted.IsCancellationRequested) return;

            var response = http.Response;
            if (!response.HasStarted)
            {
                ApplyResponseHeaders();
                foreach (var (name, value) in context.ResponseTrailers) response.Headers.Append(name, value);
                StatusHeaders.Write(response.Headers, status);
            }
            else
            {
                var trailers = http.Features.GetRequiredFeature<IHttpResponseTrailersFeature>().Trailers;
                foreach (var (name, value) in context.ResponseTrailers) trailers.Append(name, value);
                StatusHeaders.Write(trailers, status);
            }
            await response.CompleteAsync();
        }
        catch (Exception) when (http.RequestAborted.IsCancellationRequested)
        {
            // The client went away while we were finishing; there is nobody to tell.
        }
        finally
        {
            _writeLock.Release();
        }
    }

    private void ApplyResponseHeaders()
    {
        if (_headersApplied) return;
        _headersApplied = true;
        var headers = http.Response.Headers;
        if (writer.Compresses) headers[GrpcProtocol.Encoding] = MessageCompression.Gzip;
        foreach (var (name, value) in context.ResponseHeaders) headers.Append(name, value);
    }
}
