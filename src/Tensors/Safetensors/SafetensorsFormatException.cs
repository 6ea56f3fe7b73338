namespace CharacterGen.Tensors.Safetensors;

/// <summary>
/// A safetensors file was refused. The message is one line naming the problem (and the tensor where
/// there is one); it never holds the file's path, so it is safe to show a client.
/// A <see cref="FormatException"/>: <see cref="InvalidDataException"/>, the natural base, is sealed.
/// </summary>
public sealed class SafetensorsFormatException : FormatException
{
    public SafetensorsFormatException(SafetensorsFormatError reason, string message, string? tensorName = null)
        : base(message)
    {
        Reason = reason;
        TensorName = tensorName;
    }

    public SafetensorsFormatError Reason { get; }

    /// <summary>The tensor the problem was found in, when it concerns one.</summary>
    public string? TensorName { get; }

    private const int MaxQuotedLength = 120;

    /// <summary>
    /// Quotes a name taken from a file for a message: control characters escaped so the message stays
    /// one line, and long names cut, since a hostile header may hold megabyte-long keys.
    /// </summary>
    internal static string Quote(string text)
    {
        var builder = new System.Text.StringBuilder(Math.Min(text.Length, MaxQuotedLength) + 8).Append('\'');
        foreach (char c in text.Length > MaxQuotedLength ? text[..MaxQuotedLength] : text)
        {
            if (char.IsControl(c) || c is '\u2028' or '\u2029') builder.Append($"\\u{(int)c:x4}");
            else builder.Append(c);
        }
        if (text.Length > MaxQuotedLength) builder.Append('…');
        return builder.Append('\'').ToString();
    }
}
