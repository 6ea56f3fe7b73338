using System.Net;
using Google.Protobuf;

namespace CharacterGen.Server.Tests.Grpc.Support;

/// <summary>
/// A request body the test writes to while the response is already being read (HTTP/2 is full
/// duplex): the stream handed to SerializeToStreamAsync stays open until Complete().
/// </summary>
internal sealed class DuplexContent : HttpContent
{
    private readonly TaskCompletionSource<Stream> _stream = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _completed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Task<Stream> Stream => _stream.Task;

    public void Complete() => _completed.TrySetResult();

    protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) =>
        SerializeToStreamAsync(stream, context, CancellationToken.None);

    // Honouring the token lets a cancelled call abort the body, so HttpClient resets the stream.
    protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken)
    {
        _stream.TrySetResult(stream);
        return _completed.Task.WaitAsync(cancellationToken);
    }

    protected override bool TryComputeLength(out long length)
    {
        length = -1;
        return false;
    }
}

/// <summary>A client-, server- or duplex-streaming call in progress.</summary>
public sealed class StreamingCall : IDisposable
{
    private readonly DuplexContent _content;
    private readonly bool _compress;
    private readonly CancellationTokenSource _cancel = new();
    private readonly Task<HttpResponseMessage> _response;
    private Stream? _responseBody;

    internal StreamingCall(HttpClient http, HttpRequestMessage request, DuplexContent content, bool compress)
    {
        _content = content;
        _compress = compress;
        _response = http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, _cancel.Token);
    }

    public async Task SendAsync(IMessage message)
    {
        var stream = await _content.Stream;
        await stream.WriteAsync(GrpcFrames.Frame(message, _compress));
        await stream.FlushAsync();
    }

    /// <summary>Half-closes: the server's next read sees the end of the request stream.</summary>
    public void CompleteRequest() => _content.Complete();

    /// <summary>The next response message, or null when the server has finished sending.</summary>
    public async Task<T?> ReadAsync<T>(MessageParser<T> parser) where T : class, IMessage<T>
    {
        _responseBody ??= await (await _response).Content.ReadAsStreamAsync();
        return await GrpcFrames.ReadAsync(_responseBody) is { } frame ? parser.ParseFrom(frame.Payload) : null;
    }

    /// <summary>Reads what is left and returns the call's result (status, trailers).</summary>
    public async Task<GrpcCallResult> FinishAsync()
    {
        var response = await _response;
        if (_responseBody is null) return await GrpcTestClient.ReadResultAsync(response, CancellationToken.None);
        var rest = new List<byte[]>();
        while (await GrpcFrames.ReadAsync(_responseBody) is { } frame) rest.Add(frame.Payload);
        return new GrpcCallResult
        {
            HttpStatus = response.StatusCode,
            Headers = response.Headers,
            Trailers = response.TrailingHeaders,
            Messages = rest,
            AnyMessageCompressed = false,
            ContentType = response.Content.Headers.ContentType?.ToString(),
        };
    }

    /// <summary>Cancels the call the way a client does: RST_STREAM(CANCEL).</summary>
    public void Cancel() => _cancel.Cancel();

    public void Dispose()
    {
        _cancel.Cancel();
        _content.Complete();
        _responseBody?.Dispose();
        _cancel.Dispose();
    }
}
