using System.Buffers.Binary;
using System.Text;
using System.Text.Json.Nodes;

namespace CharacterGen.Server.ComfyApi;

/// <summary>One WebSocket frame waiting for a socket. <see cref="Droppable"/> frames may be skipped under backpressure.</summary>
internal abstract record OutboundFrame(bool Droppable);

/// <summary>A JSON text frame, serialised once and shared by every socket it goes to.</summary>
internal sealed record TextFrame(byte[] Utf8, bool Droppable = false) : OutboundFrame(Droppable)
{
    public static TextFrame Of(string type, JsonObject data, bool droppable = false) =>
        new(ComfyJson.Utf8(ExecutionMessages.Message(type, data)), droppable);
}

/// <summary>
/// A preview image. Encoded per socket: type 1 (PREVIEW_IMAGE: <c>uint32 BE 1</c>, <c>uint32 BE format</c>, bytes)
/// unless the client declared <c>supports_preview_metadata</c>, then type 4 (PREVIEW_IMAGE_WITH_METADATA:
/// <c>uint32 BE 4</c>, <c>uint32 BE json length</c>, JSON metadata, bytes).
/// </summary>
internal sealed record PreviewFrame(byte[] Image, bool IsPng, string PromptId, string NodeId) : OutboundFrame(Droppable: true)
{
    public const uint PreviewImage = 1;
    public const uint PreviewImageWithMetadata = 4;
    public const uint FormatJpeg = 1;
    public const uint FormatPng = 2;

    /// <summary>PNG or JPEG bytes (by signature) become a frame; anything else is not a preview we can send.</summary>
    public static PreviewFrame? From(object? preview, string promptId, string nodeId)
    {
        var bytes = preview switch
        {
            byte[] b => b,
            ReadOnlyMemory<byte> m => m.ToArray(),
            Memory<byte> m => m.ToArray(),
            _ => null,
        };
        if (bytes is null) return null;
        if (bytes.AsSpan().StartsWith((ReadOnlySpan<byte>)[0x89, (byte)'P', (byte)'N', (byte)'G'])) return new(bytes, true, promptId, nodeId);
        if (bytes.AsSpan().StartsWith((ReadOnlySpan<byte>)[0xFF, 0xD8, 0xFF])) return new(bytes, false, promptId, nodeId);
        return null;
    }

    public byte[] Encode(bool withMetadata)
    {
        if (!withMetadata)
        {
            var plain = new byte[8 + Image.Length];
            BinaryPrimitives.WriteUInt32BigEndian(plain, PreviewImage);
            BinaryPrimitives.WriteUInt32BigEndian(plain.AsSpan(4), IsPng ? FormatPng : FormatJpeg);
            Image.CopyTo(plain, 8);
            return plain;
        }
        var metadata = Encoding.UTF8.GetBytes(new JsonObject
        {
            ["node_id"] = NodeId,
            ["prompt_id"] = PromptId,
            ["display_node_id"] = NodeId,
            ["parent_node_id"] = null,
            ["real_node_id"] = NodeId,
            ["image_type"] = IsPng ? "image/png" : "image/jpeg",
        }.ToJsonString());
        var frame = new byte[8 + metadata.Length + Image.Length];
        BinaryPrimitives.WriteUInt32BigEndian(frame, PreviewImageWithMetadata);
        BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(4), (uint)metadata.Length);
        metadata.CopyTo(frame, 8);
        Image.CopyTo(frame, 8 + metadata.Length);
        return frame;
    }
}
