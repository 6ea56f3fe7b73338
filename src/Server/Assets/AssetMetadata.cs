using System.Net.Http.Headers;
using System.Text;

namespace CharacterGen.Server.Assets;

public enum AssetMetadataField
{
    FileName,
    ContentType,
}

public sealed record AssetMetadataProblem(AssetMetadataField Field, string Description);

/// <summary>
/// What a client says about a file: display metadata only. The name never becomes a path (assets are
/// stored under their hash), but it is still checked so that nothing surprising is echoed back later.
/// </summary>
public sealed record AssetMetadata(string FileName, string ContentType)
{
    public const int MaxFileNameBytes = 255;
    public const int MaxContentTypeLength = 255;
    public const string DefaultContentType = "application/octet-stream";

    public static readonly AssetMetadata None = new("", DefaultContentType);

    /// <summary>Validated metadata; an empty content type becomes <see cref="DefaultContentType"/>.</summary>
    public static AssetMetadata Create(string fileName, string contentType, out IReadOnlyList<AssetMetadataProblem> problems)
    {
        var found = new List<AssetMetadataProblem>();
        CheckFileName(fileName, found);
        CheckContentType(contentType, found);
        problems = found;
        return new AssetMetadata(fileName, contentType.Length == 0 ? DefaultContentType : contentType);
    }

    private static void CheckFileName(string name, List<AssetMetadataProblem> problems)
    {
        void Problem(string text) => problems.Add(new(AssetMetadataField.FileName, text));
        if (Encoding.UTF8.GetByteCount(name) > MaxFileNameBytes) Problem($"must be at most {MaxFileNameBytes} UTF-8 bytes");
        else if (name.Any(char.IsControl)) Problem("must not contain control characters");
        else if (name.Contains('/') || name.Contains('\\')) Problem("must be a bare file name without '/' or '\\'");
        else if (name is "." or "..") Problem("must not be '.' or '..'");
    }

    private static void CheckContentType(string contentType, List<AssetMetadataProblem> problems)
    {
        if (contentType.Length == 0) return;
        if (contentType.Length > MaxContentTypeLength
            || contentType.Any(c => c < 0x20 || c > 0x7E)
            || !MediaTypeHeaderValue.TryParse(contentType, out var parsed)
            || parsed.MediaType is null || !parsed.MediaType.Contains('/'))
            problems.Add(new(AssetMetadataField.ContentType, "must be a MIME type such as 'image/png'"));
    }
}
