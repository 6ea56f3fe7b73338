using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace CharacterGen.Tensors.Safetensors;

/// <summary>Serialises a header the way the reference does: metadata first, then space padding to 8 bytes.</summary>
internal static class HeaderJsonWriter
{
    // The header is a file, never embedded in HTML, so non-ASCII names may stay readable.
    private static readonly JsonWriterOptions Options = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>The JSON bytes, padded with spaces so that the data buffer (at 8 + N) is 8-byte aligned.</summary>
    public static byte[] Write(IReadOnlyList<SafetensorsEntry> entries, IReadOnlyDictionary<string, string>? metadata)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var json = new Utf8JsonWriter(buffer, Options))
        {
            json.WriteStartObject();
            if (metadata is { Count: > 0 })
            {
                json.WriteStartObject(HeaderJsonParser.MetadataKey);
                foreach (var (key, value) in metadata)
                    json.WriteString(key, value);
                json.WriteEndObject();
            }
            foreach (var entry in entries)
            {
                json.WriteStartObject(entry.Name);
                json.WriteString("dtype", entry.DType.ToHeaderName());
                json.WriteStartArray("shape");
                foreach (long dim in entry.Shape)
                    json.WriteNumberValue(dim);
                json.WriteEndArray();
                json.WriteStartArray("data_offsets");
                json.WriteNumberValue(entry.DataOffset);
                json.WriteNumberValue(entry.DataEnd);
                json.WriteEndArray();
                json.WriteEndObject();
            }
            json.WriteEndObject();
        }
        int padding = (8 - (SafetensorsHeader.LengthPrefixBytes + buffer.WrittenCount) % 8) % 8;
        var bytes = new byte[buffer.WrittenCount + padding];
        buffer.WrittenSpan.CopyTo(bytes);
        bytes.AsSpan(buffer.WrittenCount).Fill((byte)' ');
        return bytes;
    }
}
