using System.Net;
using System.Net.Http.Headers;
using Google.Protobuf;

namespace CharacterGen.Server.Tests.Grpc.Support;

public sealed record CallOptions
{
    public string ContentType { get; init; } = "application/grpc";
    /// <summary>Sent as grpc-timeout, e.g. "200m".</summary>
    public string? Timeout { get; init; }
    /// <summary>Sent as grpc-encoding.</summary>
    public string? Encoding { get; init; }
    /// <summary>Compress every request message with gzip (set Encoding to "gzip" too, unless testing a broken client).</summary>
    public bool CompressRequests { get; init; }
    /// <summary>Sent as grpc-accept-encoding.</summary>
    public string? AcceptEncoding { get; init; }
    public IReadOnlyDictionary<string, string> Headers { get; init; } = new Dictionary<string, string>();
}

/// <summary>
/// A minimal gRPC client over HttpClient with HTTP/2 prior knowledge (h2c), so tests see exactly what
/// goes over the wire: headers, frames, trailers.
/// </summary>
public sealed class GrpcTestClient(Uri address, HttpMessageHandler? handler = null) : IDisposable
{
    private readonly HttpClient _http = new(handler ?? new SocketsHttpHandler())
    {
        BaseAddress = address,
        DefaultRequestVersion = HttpVersion.Version20,
        DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
        Timeout = System.Threading.Timeout.InfiniteTimeSpan,
    };

    public Task<GrpcCallResult> UnaryAsync(string path, IMessage request, CallOptions? options = null) =>
        CallAsync(path, [request], options);

    /// <summary>Sends all request messages, half-closes, and reads the whole response.</summary>
    public Task<GrpcCallResult> CallAsync(string path, IEnumerable<IMessage> requests, CallOptions? options = null)
    {
        options ??= new CallOptions();
        var body = requests.SelectMany(message => GrpcFrames.Frame(message, options.CompressRequests)).ToArray();
        return SendRawAsync(path, body, options);
    }

    /// <summary>Sends <paramref name="body"/> as the request body verbatim (for malformed or oversized frames).</summary>
    public async Task<GrpcCallResult> SendRawAsync(string path, byte[] body, CallOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new CallOptions();
        using var request = CreateRequest(path, options, new ByteArrayContent(body));
        using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        return await ReadResultAsync(response, cancellationToken);
    }

    /// <summary>Starts a streaming call: send and read at will, then <see cref="StreamingCall.CompleteRequest"/>.</summary>
    public StreamingCall Start(string path, CallOptions? options = null)
    {
        options ??= new CallOptions();
        var content = new DuplexContent();
        var request = CreateRequest(path, options, content);
        return new StreamingCall(_http, request, content, options.CompressRequests);
    }

    public void Dispose() => _http.Dispose();

    internal static async Task<GrpcCallResult> ReadResultAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var messages = new List<byte[]>();
        var compressed = false;
        await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
        while (await GrpcFrames.ReadAsync(stream, cancellationToken) is { } frame)
        {
            messages.Add(frame.Payload);
            compressed |= frame.Compressed;
        }
        return new GrpcCallResult
        {
            HttpStatus = response.StatusCode,
            Headers = response.Headers,
            Trailers = response.TrailingHeaders,
            Messages = messages,
            AnyMessageCompressed = compressed,
            ContentType = response.Content.Headers.ContentType?.ToString(),
        };
    }

    private static HttpRequestMessage CreateRequest(string path, CallOptions options, HttpContent content)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path)
        {
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Content = content,
        };
        content.Headers.ContentType = MediaTypeHeaderValue.Parse(options.ContentType);
        request.Headers.TryAddWithoutValidation("te", "trailers");
        if (options.Timeout is not null) request.Headers.TryAddWithoutValidation("grpc-timeout", options.Timeout);
        if (options.Encoding is not null) request.Headers.TryAddWithoutValidation("grpc-encoding", options.Encoding);
        if (options.AcceptEncoding is not null) request.Headers.TryAddWithoutValidation("grpc-accept-encoding", options.AcceptEncoding);
        foreach (var (name, value) in options.Headers) request.Headers.TryAddWithoutValidation(name, value);
        return request;
    }
}
