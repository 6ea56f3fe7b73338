using System.IO.Compression;

namespace CharacterGen.Server.Grpc;

/// <summary>Transport limits and behaviour of the gRPC endpoint. Advertised on the status page.</summary>
public sealed record GrpcServerOptions
{
    /// <summary>4 MiB, the usual gRPC default: control messages are small, files travel in chunks.</summary>
    public const int DefaultMaxReceiveMessageBytes = 4 * 1024 * 1024;

    /// <summary>4 MiB: set explicitly because gRPC's own default (unlimited) hides oversized replies.</summary>
    public const int DefaultMaxSendMessageBytes = 4 * 1024 * 1024;

    public const string DefaultResponseCompression = MessageCompression.Identity;

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

    public IEnumerable<string> Validate()
    {
        if (MaxReceiveMessageBytes <= 0)
            yield return $"Grpc:MaxReceiveMessageBytes must be positive (got {MaxReceiveMessageBytes}).";
        if (MaxSendMessageBytes <= 0)
            yield return $"Grpc:MaxSendMessageBytes must be positive (got {MaxSendMessageBytes}).";
        if (!MessageCompression.IsSupported(ResponseCompression ?? ""))
            yield return $"Grpc:ResponseCompression must be '{MessageCompression.Identity}' or '{MessageCompression.Gzip}' (got '{ResponseCompression}').";
    }
}
