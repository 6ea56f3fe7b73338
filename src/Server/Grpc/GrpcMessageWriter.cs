using System.Buffers.Binary;
using System.IO.Compression;
using System.IO.Pipelines;
using Google.Protobuf;

namespace CharacterGen.Server.Grpc;

/// <summary>Writes length-prefixed messages into a response body, gzip-compressing them when negotiated.</summary>
internal sealed class GrpcMessageWriter(PipeWriter body, int maxSendMessageBytes, CompressionLevel? gzipLevel)
{
    /// <summary>The response carries <c>grpc-encoding: gzip</c> and every message is compressed.</summary>
    public bool Compresses => gzipLevel is not null;

    /// <summary>Frames <paramref name="message"/> into the pipe; the caller flushes.</summary>
    public void Write(IMessage message)
    {
        var size = message.CalculateSize();
        if (size > maxSendMessageBytes) throw MessageLimits.SendTooLarge();

        if (gzipLevel is not { } level)
        {
            var span = body.GetSpan(GrpcProtocol.MessageHeaderSize + size);
            WriteHeader(span, compressed: false, size);
            message.WriteTo(span.Slice(GrpcProtocol.MessageHeaderSize, size));
            body.Advance(GrpcProtocol.MessageHeaderSize + size);
            return;
        }

        var raw = new byte[size];
        message.WriteTo(raw.AsSpan());
        var packed = MessageCompression.Compress(raw, level);
        var target = body.GetSpan(GrpcProtocol.MessageHeaderSize + packed.Length);
        WriteHeader(target, compressed: true, packed.Length);
        packed.CopyTo(target[GrpcProtocol.MessageHeaderSize..]);
        body.Advance(GrpcProtocol.MessageHeaderSize + packed.Length);
    }

    private static void WriteHeader(Span<byte> target, bool compressed, int length)
    {
        target[0] = compressed ? (byte)1 : (byte)0;
        BinaryPrimitives.WriteUInt32BigEndian(target[1..], (uint)length);
    }
}
