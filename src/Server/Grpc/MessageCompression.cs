using System.IO.Compression;

namespace CharacterGen.Server.Grpc;

/// <summary>
/// Per-message compression (PROTOCOL-HTTP2.md "Message-Encoding"): each message is compressed on its
/// own, with a fresh context. We speak identity and gzip.
/// </summary>
public static class MessageCompression
{
    public const string Identity = "identity";
    public const string Gzip = "gzip";

    /// <summary>What we advertise in <c>grpc-accept-encoding</c>.</summary>
    public const string Supported = "identity,gzip";

    public static bool IsSupported(string encoding) =>
        encoding.Equals(Identity, StringComparison.OrdinalIgnoreCase)
        || encoding.Equals(Gzip, StringComparison.OrdinalIgnoreCase);

    /// <summary>True if a <c>grpc-accept-encoding</c> list ("identity,deflate,gzip") names <paramref name="encoding"/>.</summary>
    public static bool Accepts(string? acceptEncoding, string encoding)
    {
        if (string.IsNullOrEmpty(acceptEncoding)) return false;
        foreach (var range in acceptEncoding.AsSpan().Split(','))
            if (acceptEncoding.AsSpan()[range].Trim().Equals(encoding, StringComparison.OrdinalIgnoreCase))
                return true;
        return false;
    }

    public static byte[] Compress(ReadOnlySpan<byte> message, CompressionLevel level)
    {
        using var output = new MemoryStream(message.Length / 2 + 64);
        using (var gzip = new GZipStream(output, level, leaveOpen: true))
            gzip.Write(message);
        return output.ToArray();
    }

    /// <summary>
    /// Inflates one message, refusing to produce more than <paramref name="maxBytes"/>: a small
    /// compressed message may expand without bound (a "zip bomb"), so the limit applies to the output.
    /// </summary>
    /// <exception cref="RpcException">RESOURCE_EXHAUSTED over the limit; INTERNAL for corrupt data.</exception>
    public static byte[] Decompress(ReadOnlySpan<byte> compressed, int maxBytes)
    {
        try
        {
            using var input = new MemoryStream(compressed.ToArray());
            using var gzip = new GZipStream(input, CompressionMode.Decompress);
            using var output = new MemoryStream();
            var buffer = new byte[16 * 1024];
            int read;
            while ((read = gzip.Read(buffer)) > 0)
            {
                if (output.Length + read > maxBytes) throw MessageLimits.ReceiveTooLarge();
                output.Write(buffer, 0, read);
            }
            return output.ToArray();
        }
        catch (InvalidDataException)
        {
            throw new RpcException(StatusCode.Internal, "Failed to decompress request message.");
        }
    }
}
