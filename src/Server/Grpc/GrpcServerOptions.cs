using System.IO.Compression;

namespace CharacterGen.Server.Grpc;

/// <summary>Transport limits and behaviour of the gRPC endpoint. Advertised on the status page.</summary>
public sealed record GrpcServerOptions
{
    /// <summary>4 MiB, the usual gRPC default: control messages are small, files travel in chunks.</summary>
    public const int DefaultMaxReceiveMessageBytes = 4 * 1024 * 1024;

    /// <summary>4 MiB: set explicitly because gRPC's own default (unlimited) hides oversized replies.</summary>
    public const int DefaultMaxSendMessageBytes = 4 * 1024 * 1024;

    public const string Identity = "identity";
    public const string Gzip = "gzip";

    public const string DefaultResponseCompression = Identity;

    /// <summary>Largest request message accepted, after decompression; larger → RESOURCE_EXHAUSTED.</summary>
    public int MaxReceiveMessageBytes { get; init; } = DefaultMaxReceiveMessageBytes;

    /// <summary>Largest response message sent; a handler producing a larger one fails with RESOURCE_EXHAUSTED.</summary>
    public int MaxSendMessageBytes { get; init; } = DefaultMaxSendMessageBytes;

    /// <summary>
    /// "identity" (default) or "gzip". With gzip, responses are compressed when the client's
    /// <c>grpc-accept-encoding</c> lists gzip. Requests are decompressed either way.
    /// </summary>
    public string ResponseCompression { get; init; } = DefaultResponseCompression;

    public CompressionLevel ResponseCompressionLevel { get; init; } = CompressionLevel.Fastest;

    /// <summary>Serve grpc.reflection.v1 and v1alpha so grpcurl and similar tools can discover services.</summary>
    public bool EnableReflection { get; init; } = true;

    /// <summary>
    /// Origins (scheme://host[:port]) of web pages allowed to call gRPC-Web and the JSON routes on the HTTP port
    /// cross-origin. Empty (default): same origin only, no CORS headers are sent.
    /// </summary>
    public string[] WebAllowedOrigins { get; init; } = [];

    public IEnumerable<string> Validate()
    {
        if (MaxReceiveMessageBytes <= 0)
            yield return $"Grpc:MaxReceiveMessageBytes must be positive (got {MaxReceiveMessageBytes}).";
        if (MaxSendMessageBytes <= 0)
            yield return $"Grpc:MaxSendMessageBytes must be positive (got {MaxSendMessageBytes}).";
        if (ResponseCompression is not (Identity or Gzip))
            yield return $"Grpc:ResponseCompression must be '{Identity}' or '{Gzip}' (got '{ResponseCompression}').";
        foreach (var origin in WebAllowedOrigins)
            if (!Uri.TryCreate(origin, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https") || uri.AbsolutePath != "/")
                yield return $"Grpc:WebAllowedOrigins entry '{origin}' must be an origin such as https://app.example.com.";
    }
}
