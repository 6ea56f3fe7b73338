using System.Diagnostics.CodeAnalysis;

namespace CharacterGen.Server.Assets;

/// <summary>
/// An asset's identity: the lowercase hex SHA-256 of its bytes. Parsing accepts exactly 64 hex digits,
/// so an id that reaches the file system can never be a path.
/// </summary>
public readonly record struct AssetId
{
    public const int Length = 64;

    private AssetId(string value) => Value = value;

    public string Value { get; }

    /// <summary>The first two digits: the sub-folder the asset lives in (keeps folders small).</summary>
    public string Shard => Value[..2];

    public static AssetId FromSha256(ReadOnlySpan<byte> digest) => new(Convert.ToHexStringLower(digest));

    public static bool TryParse([NotNullWhen(true)] string? text, out AssetId id)
    {
        id = default;
        if (text is null || text.Length != Length) return false;
        foreach (var c in text)
            if (!char.IsAsciiHexDigit(c)) return false;
        id = new AssetId(text.ToLowerInvariant());
        return true;
    }

    public override string ToString() => Value;
}
