using System.Text.Json;
using System.Text.Unicode;

namespace CharacterGen.Tensors.Safetensors;

/// <summary>A tensor as the header declares it, before its offsets are checked against the others.</summary>
internal readonly record struct DeclaredTensor(string Name, SafetensorsDType DType, long[] Shape, long Begin, long End);

/// <summary>
/// Walks the header JSON with <see cref="Utf8JsonReader"/> rather than <c>JsonDocument</c>, because
/// the format disallows duplicate keys and JsonDocument silently keeps both.
/// </summary>
internal static class HeaderJsonParser
{
    public const string MetadataKey = "__metadata__";

    // The header is three levels deep; anything deeper only lives in ignored fields.
    private const int MaxDepth = 64;

    public static (Dictionary<string, string> Metadata, List<DeclaredTensor> Tensors) Parse(
        ReadOnlySpan<byte> json, SafetensorsLimits limits)
    {
        if (!Utf8.IsValid(json))
            throw Fail(SafetensorsFormatError.HeaderNotUtf8, "header is not valid UTF-8");
        if (json.IsEmpty || json[0] != (byte)'{')
            throw Fail(SafetensorsFormatError.InvalidHeaderStart,
                json.IsEmpty ? "header is empty" : "header does not start with '{'");
        try
        {
            return ParseObject(json, limits);
        }
        catch (JsonException e)
        {
            throw Fail(SafetensorsFormatError.InvalidJson,
                $"header is not valid JSON (line {e.LineNumber + 1}, byte {e.BytePositionInLine + 1})");
        }
        catch (InvalidOperationException)
        {
            // GetString on an escape that decodes to a lone surrogate.
            throw Fail(SafetensorsFormatError.InvalidJson, "header is not valid JSON (invalid string escape)");
        }
    }

    private static (Dictionary<string, string>, List<DeclaredTensor>) ParseObject(
        ReadOnlySpan<byte> json, SafetensorsLimits limits)
    {
        var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = MaxDepth });
        reader.Read(); // the '{' checked above
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        var tensors = new List<DeclaredTensor>();
        var keys = new HashSet<string>(StringComparer.Ordinal);
        while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
        {
            var key = reader.GetString()!;
            if (!keys.Add(key))
                throw Fail(SafetensorsFormatError.DuplicateKey,
                    key == MetadataKey ? $"duplicate key '{MetadataKey}' in header" : $"duplicate tensor name {Quote(key)} in header", key);
            reader.Read();
            if (key == MetadataKey)
            {
                ReadMetadata(ref reader, metadata);
                continue;
            }
            if (tensors.Count == limits.MaxTensorCount)
                throw Fail(SafetensorsFormatError.TooManyTensors,
                    $"header declares more than {limits.MaxTensorCount} tensors");
            tensors.Add(ReadTensor(ref reader, key));
        }
        // Trailing whitespace (the reference pads with spaces) is fine; anything else throws here.
        while (reader.Read()) { }
        return (metadata, tensors);
    }

    private static void ReadMetadata(ref Utf8JsonReader reader, Dictionary<string, string> metadata)
    {
        if (reader.TokenType == JsonTokenType.Null)
            return; // the reference's Option<HashMap>: null means none
        if (reader.TokenType != JsonTokenType.StartObject)
            throw Fail(SafetensorsFormatError.InvalidMetadata, $"'{MetadataKey}' must be an object of strings");
        while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
        {
            var key = reader.GetString()!;
            if (metadata.ContainsKey(key))
                throw Fail(SafetensorsFormatError.DuplicateKey, $"duplicate key {Quote(key)} in '{MetadataKey}'");
            reader.Read();
            if (reader.TokenType != JsonTokenType.String)
                throw Fail(SafetensorsFormatError.InvalidMetadata,
                    $"'{MetadataKey}' value of {Quote(key)} must be a string, not {Describe(reader.TokenType)}");
            metadata.Add(key, reader.GetString()!);
        }
    }

    private static DeclaredTensor ReadTensor(ref Utf8JsonReader reader, string name)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
            throw Invalid(name, $"tensor {Quote(name)} must be an object with dtype, shape and data_offsets");
        string? dtypeName = null;
        long[]? shape = null;
        (long Begin, long End)? offsets = null;
        var keys = new HashSet<string>(StringComparer.Ordinal);
        while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
        {
            var key = reader.GetString()!;
            if (!keys.Add(key))
                throw Fail(SafetensorsFormatError.DuplicateKey, $"duplicate key {Quote(key)} in tensor {Quote(name)}", name);
            reader.Read();
            switch (key)
            {
                case "dtype":
                    if (reader.TokenType != JsonTokenType.String)
                        throw Invalid(name, $"tensor {Quote(name)}: 'dtype' must be a string");
                    dtypeName = reader.GetString()!;
                    break;
                case "shape":
                    shape = ReadShape(ref reader, name);
                    break;
                case "data_offsets":
                    offsets = ReadOffsets(ref reader, name);
                    break;
                default:
                    // The reference ignores unknown fields; we do too, but still refuse duplicates in them.
                    SkipValue(ref reader, $"tensor {Quote(name)}", name);
                    break;
            }
        }
        if (dtypeName is null) throw Invalid(name, $"tensor {Quote(name)}: missing 'dtype'");
        if (shape is null) throw Invalid(name, $"tensor {Quote(name)}: missing 'shape'");
        if (offsets is not { } span) throw Invalid(name, $"tensor {Quote(name)}: missing 'data_offsets'");
        if (!SafetensorsDTypes.TryParse(dtypeName, out var dtype))
            throw Fail(SafetensorsFormatError.UnknownDType, $"tensor {Quote(name)}: unknown dtype {Quote(dtypeName)}", name);
        return new DeclaredTensor(name, dtype, shape, span.Begin, span.End);
    }

    private static long[] ReadShape(ref Utf8JsonReader reader, string name)
    {
        if (reader.TokenType != JsonTokenType.StartArray)
            throw Invalid(name, $"tensor {Quote(name)}: 'shape' must be an array of integers");
        var dims = new List<long>();
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            if (reader.TokenType != JsonTokenType.Number)
                throw Invalid(name, $"tensor {Quote(name)}: 'shape' must be an array of integers");
            if (reader.TryGetInt64(out long dim))
            {
                if (dim < 0)
                    throw Fail(SafetensorsFormatError.NegativeDimension,
                        $"tensor {Quote(name)}: negative dimension {dim} in shape", name);
                dims.Add(dim);
            }
            else if (reader.TryGetUInt64(out ulong huge))
                throw Fail(SafetensorsFormatError.SizeOverflow,
                    $"tensor {Quote(name)}: dimension {huge} does not fit in 64 bits", name);
            else
                throw Invalid(name, $"tensor {Quote(name)}: 'shape' must be an array of integers");
        }
        return dims.ToArray();
    }

    private static (long, long) ReadOffsets(ref Utf8JsonReader reader, string name)
    {
        string expected = $"tensor {Quote(name)}: 'data_offsets' must be two non-negative integers [begin, end]";
        if (reader.TokenType != JsonTokenType.StartArray)
            throw Invalid(name, expected);
        Span<long> values = stackalloc long[2];
        int count = 0;
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            if (count == 2 || reader.TokenType != JsonTokenType.Number)
                throw Invalid(name, expected);
            if (reader.TryGetInt64(out long value))
            {
                if (value < 0) throw Invalid(name, expected);
                values[count++] = value;
            }
            else if (reader.TryGetUInt64(out ulong huge))
                throw Fail(SafetensorsFormatError.InvalidOffsets,
                    $"tensor {Quote(name)}: data offset {huge} is beyond any file", name);
            else
                throw Invalid(name, expected);
        }
        if (count != 2)
            throw Invalid(name, expected);
        return (values[0], values[1]);
    }

    /// <summary>Skips the value under the reader, refusing duplicate keys in any object inside it.</summary>
    private static void SkipValue(ref Utf8JsonReader reader, string where, string tensorName)
    {
        if (reader.TokenType == JsonTokenType.StartObject)
        {
            var keys = new HashSet<string>(StringComparer.Ordinal);
            while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
            {
                var key = reader.GetString()!;
                if (!keys.Add(key))
                    throw Fail(SafetensorsFormatError.DuplicateKey, $"duplicate key {Quote(key)} in {where}", tensorName);
                reader.Read();
                SkipValue(ref reader, where, tensorName);
            }
        }
        else if (reader.TokenType == JsonTokenType.StartArray)
        {
            while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                SkipValue(ref reader, where, tensorName);
        }
    }

    private static string Describe(JsonTokenType token) => token switch
    {
        JsonTokenType.StartObject => "an object",
        JsonTokenType.StartArray => "an array",
        JsonTokenType.Number => "a number",
        JsonTokenType.True or JsonTokenType.False => "a boolean",
        JsonTokenType.Null => "null",
        _ => token.ToString(),
    };

    private static string Quote(string text) => SafetensorsFormatException.Quote(text);

    private static SafetensorsFormatException Invalid(string name, string message) =>
        Fail(SafetensorsFormatError.InvalidTensorInfo, message, name);

    private static SafetensorsFormatException Fail(SafetensorsFormatError reason, string message, string? name = null) =>
        new(reason, message, name);
}
