namespace CharacterGen.Server.Grpc;

/// <summary>Header names and values from the gRPC over HTTP/2 protocol (grpc/grpc doc/PROTOCOL-HTTP2.md).</summary>
public static class GrpcProtocol
{
    public const string ContentType = "application/grpc";
    public const string Status = "grpc-status";
    public const string Message = "grpc-message";
    public const string StatusDetails = "grpc-status-details-bin";
    public const string Timeout = "grpc-timeout";
    public const string Encoding = "grpc-encoding";
    public const string AcceptEncoding = "grpc-accept-encoding";

    /// <summary>Compressed flag (1 byte) + big-endian message length (4 bytes).</summary>
    public const int MessageHeaderSize = 5;

    /// <summary>
    /// True for <c>application/grpc</c> and <c>application/grpc+proto</c> (any parameters after ';').
    /// Other sub-types (+json, custom codecs) are gRPC but not something we can decode.
    /// </summary>
    public static bool IsSupportedContentType(string? contentType)
    {
        if (string.IsNullOrEmpty(contentType)) return false;
        var mediaType = contentType.AsSpan();
        var semicolon = mediaType.IndexOf(';');
        if (semicolon >= 0) mediaType = mediaType[..semicolon];
        mediaType = mediaType.Trim();
        return mediaType.Equals(ContentType, StringComparison.OrdinalIgnoreCase)
            || mediaType.Equals(ContentType + "+proto", StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>True for any <c>application/grpc*</c> content type: the request is meant for us.</summary>
    public static bool IsGrpcContentType(string? contentType) =>
        contentType is not null && contentType.StartsWith(ContentType, StringComparison.OrdinalIgnoreCase);
}
