using System.Security.Cryptography;
using CharacterGen.Diffusion.Imaging;
using CharacterGen.Nodes.Files;

namespace CharacterGen.Nodes.Image;

/// <summary>Images a workflow reads from the input folder: listing, annotated names, validation, fingerprints.</summary>
internal static class ImageFiles
{
    private static readonly HashSet<string> ImageExtensions = new(StringComparer.OrdinalIgnoreCase)
    {
        ".png", ".jpg", ".jpeg", ".webp", ".bmp", ".gif", ".tif", ".tiff", ".avif", ".heic", ".heif",
    };

    /// <summary>The image files directly in input/ (ComfyUI lists that folder without recursing), sorted.</summary>
    public static IReadOnlyList<string> List(DataFolders data)
    {
        if (!Directory.Exists(data.Input)) return [];
        return Directory.EnumerateFiles(data.Input)
            .Where(f => ImageExtensions.Contains(Path.GetExtension(f)))
            .Select(Path.GetFileName).OfType<string>()
            .Order(StringComparer.Ordinal).ToArray();
    }

    /// <summary>
    /// The file for a name as LoadImage accepts it: relative to input/, or to output/ or temp/ with ComfyUI's
    /// " [output]" / " [temp]" suffix, or an uploaded asset as "&lt;asset id&gt; [asset]" (CharacterGen: so a gRPC client
    /// can hand a workflow an image with Assets.Upload and an override). Names that leave their folder are refused.
    /// </summary>
    /// <exception cref="PathEscapeException">The name leaves its folder, or is not an asset id.</exception>
    public static string Resolve(DataFolders data, string name)
    {
        const string AssetSuffix = " [asset]";
        if (name.EndsWith(AssetSuffix, StringComparison.Ordinal))
        {
            string id = name[..^AssetSuffix.Length];
            if (id.Length != 64 || !id.All(char.IsAsciiHexDigitLower))
                throw new PathEscapeException($"'{id}' is not an asset id (64 lowercase hex digits)");
            return SafePath.Resolve(data.Assets, Path.Combine(id[..2], id));
        }
        string folder = data.Input;
        foreach (var (suffix, type) in new[] { (" [input]", "input"), (" [output]", "output"), (" [temp]", "temp") })
        {
            if (!name.EndsWith(suffix, StringComparison.Ordinal)) continue;
            folder = data.ForType(type);
            name = name[..^suffix.Length];
            break;
        }
        return SafePath.Resolve(folder, name);
    }

    /// <summary>VALIDATE_INPUTS: null when the file exists inside its folder.</summary>
    public static string? Validate(DataFolders data, string name)
    {
        try
        {
            return File.Exists(Resolve(data, name)) ? null : $"Invalid image file: {name}";
        }
        catch (PathEscapeException e)
        {
            return $"Invalid image file: {name} ({e.Message})";
        }
    }

    /// <summary>
    /// The file's header and size, read without decoding (for the memory estimate); null when the name leaves its
    /// folder, the file is missing or it is not a readable image — validation and the decoder report those.
    /// </summary>
    public static (ImageHeader Header, long FileBytes)? Header(DataFolders data, string name)
    {
        try
        {
            string path = Resolve(data, name);
            return (ImageDecoder.ReadHeader(path), new FileInfo(path).Length);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or PathEscapeException or ImageDecodeException)
        {
            return null;
        }
    }

    /// <summary>IS_CHANGED: the file's sha256, so an edited file re-runs the node.</summary>
    public static string? Fingerprint(DataFolders data, string name)
    {
        try
        {
            using var stream = File.OpenRead(Resolve(data, name));
            return Convert.ToHexStringLower(SHA256.HashData(stream));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or PathEscapeException)
        {
            return null; // validation reports the problem
        }
    }
}
