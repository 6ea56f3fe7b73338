using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;
using Google.Protobuf;

namespace CharacterGen.Server.Grpc;

/// <summary>
/// Reads length-prefixed messages (1-byte compressed flag, 4-byte big-endian length, payload) from a
/// request body. DATA frame boundaries mean nothing here: a message may span frames, a frame may hold
/// several messages.
/// </summary>
internal sealed class GrpcMessageReader(PipeReader body, int maxReceiveMessageBytes, bool gzipEncoded)
{
    /// <summary>The next message, or null once the client has half-closed its side of the stream.</summary>
    public async ValueTask<T?> ReadAsync<T>(MessageParser<T> parser, CancellationToken cancellationToken)
        where T : IMessage<T>
    {
        while (true)
        {
            var result = await body.ReadAsync(cancellationToken);
            var buffer = result.Buffer;
            var consumed = buffer.Start;
            var examined = buffer.End;
            try
            {
                if (TryReadFrame(buffer, out var payload, out var compressed))
                {
                    consumed = examined = payload.End;
                    return Parse(parser, payload, compressed);
                }
                if (result.IsCompleted)
                {
                    if (buffer.Length > 0)
                        throw new RpcException(StatusCode.Internal, "Incomplete message: the request stream ended inside a message.");
                    return default;
                }
            }
            finally
            {
                body.AdvanceTo(consumed, examined);
            }
        }
    }

    private bool TryReadFrame(ReadOnlySequence<byte> buffer, out ReadOnlySequence<byte> payload, out bool compressed)
    {
        payload = default;
        compressed = false;
        if (buffer.Length < GrpcProtocol.MessageHeaderSize) return false;

        Span<byte> header = stackalloc byte[GrpcProtocol.MessageHeaderSize];
        buffer.Slice(0, GrpcProtocol.MessageHeaderSize).CopyTo(header);
        compressed = header[0] switch
        {
            0 => false,
            1 => true,
            _ => throw new RpcException(StatusCode.Internal, "Invalid compressed flag in message header."),
        };
        var length = BinaryPrimitives.ReadUInt32BigEndian(header[1..]);
        // Refuse before buffering: the length prefix alone tells us the message is too big.
        if (length > (uint)maxReceiveMessageBytes) throw MessageLimits.ReceiveTooLarge();
        if (buffer.Length < GrpcProtocol.MessageHeaderSize + length) return false;

        payload = buffer.Slice(GrpcProtocol.MessageHeaderSize, length);
        return true;
    }

    private T Parse<T>(MessageParser<T> parser, ReadOnlySequence<byte> payload, bool compressed) where T : IMessage<T>
    {
        try
        {
            if (!compressed) return parser.ParseFrom(payload);
            if (!gzipEncoded)
                throw new RpcException(StatusCode.Internal, "Received a compressed message but the request has no grpc-encoding.");
            var inflated = MessageCompression.Decompress(payload.ToArray(), maxReceiveMessageBytes);
            return parser.ParseFrom(inflated);
        }
        catch (InvalidProtocolBufferException)
        {
            throw new RpcException(StatusCode.Internal, "Failed to deserialize request message.");
        }
    }
}
