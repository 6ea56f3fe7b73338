namespace CharacterGen.Server.Grpc;

/// <summary>
/// Custom response headers or trailers of a call. Names are lowercase; names ending in "-bin" carry
/// binary values (sent base64). Reserved names (grpc-*, pseudo-headers, content-type, te) are refused
/// here, where the handler's own stack shows who tried.
/// </summary>
public sealed class Metadata : IEnumerable<KeyValuePair<string, string>>
{
    private readonly List<KeyValuePair<string, string>> _entries = [];

    public int Count => _entries.Count;

    public void Add(string name, string value)
    {
        ValidateName(name);
        if (name.EndsWith("-bin", StringComparison.Ordinal))
            throw new ArgumentException($"'{name}' is a binary key: use AddBinary.", nameof(name));
        foreach (var c in value)
            if (c < 0x20 || c > 0x7E)
                throw new ArgumentException("Metadata values must be printable ASCII.", nameof(value));
        _entries.Add(new(name, value));
    }

    public void AddBinary(string name, ReadOnlySpan<byte> value)
    {
        ValidateName(name);
        if (!name.EndsWith("-bin", StringComparison.Ordinal))
            throw new ArgumentException($"Binary metadata keys end in '-bin'; '{name}' does not.", nameof(name));
        _entries.Add(new(name, Base64.EncodeUnpadded(value)));
    }

    public IEnumerator<KeyValuePair<string, string>> GetEnumerator() => _entries.GetEnumerator();

    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();

    private static void ValidateName(string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        foreach (var c in name)
            if (!(char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c is '-' or '_' or '.'))
                throw new ArgumentException($"Metadata key '{name}' must be lowercase letters, digits, '-', '_' or '.'.", nameof(name));
        if (name.StartsWith("grpc-", StringComparison.Ordinal) || name is "content-type" or "te" or "user-agent")
            throw new ArgumentException($"Metadata key '{name}' is reserved by the gRPC protocol.", nameof(name));
    }
}
