using System.Buffers.Binary;
using System.IO.Compression;
using Google.Protobuf;

namespace CharacterGen.Server.Tests.Grpc.Support;

/// <summary>Client-side length-prefixed framing, written independently of the server's for the tests.</summary>
public static class GrpcFrames
{
    public static byte[] Frame(IMessage message, bool gzip = false) => Frame(message.ToByteArray(), gzip);

    public static byte[] Frame(byte[] payload, bool gzip = false)
    {
        if (gzip)
        {
            using var packed = new MemoryStream();
            using (var stream = new GZipStream(packed, CompressionLevel.Optimal, leaveOpen: true)) stream.Write(payload);
            payload = packed.ToArray();
        }
        var frame = new byte[5 + payload.Length];
        frame[0] = gzip ? (byte)1 : (byte)0;
        BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(1), (uint)payload.Length);
        payload.CopyTo(frame, 5);
        return frame;
    }

    /// <summary>A frame header announcing <paramref name="length"/> bytes, without the bytes.</summary>
    public static byte[] Header(uint length)
    {
        var header = new byte[5];
        BinaryPrimitives.WriteUInt32BigEndian(header.AsSpan(1), length);
        return header;
    }

    /// <summary>The next message's payload (decompressed if flagged) or null at a clean end of stream.</summary>
    public static async Task<(byte[] Payload, bool Compressed)?> ReadAsync(Stream stream, CancellationToken cancellationToken = default)
    {
        var header = new byte[5];
        var read = await stream.ReadAtLeastAsync(header, 5, throwOnEndOfStream: false, cancellationToken);
        if (read == 0) return null;
        if (read < 5) throw new EndOfStreamException("Response ended inside a message header.");
        var length = BinaryPrimitives.ReadUInt32BigEndian(header.AsSpan(1));
        var payload = new byte[length];
        await stream.ReadExactlyAsync(payload, cancellationToken);
        if (header[0] == 0) return (payload, false);
        using var inflated = new MemoryStream();
        using (var gzip = new GZipStream(new MemoryStream(payload), CompressionMode.Decompress)) gzip.CopyTo(inflated);
        return (inflated.ToArray(), true);
    }
}
