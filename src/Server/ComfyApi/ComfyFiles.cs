using CharacterGen.Nodes.Files;

namespace CharacterGen.Server.ComfyApi;

/// <summary>
/// ComfyUI's file addressing (<c>filename</c>, <c>subfolder</c>, <c>type</c> = input | output | temp) resolved
/// inside the data folders by <see cref="SafePath"/>: no <c>..</c> out, no absolute paths, no NUL or control
/// characters, no symlinks that lead outside. Every refusal is the same 400, whatever the trick.
/// </summary>
public sealed class ComfyFiles(DataFolders folders)
{
    private static readonly (string Suffix, string Type)[] Annotations = [(" [output]", "output"), (" [input]", "input"), (" [temp]", "temp")];

    public DataFolders Folders { get; } = folders;

    public enum Lookup { Found, Invalid, NotFound }

    public sealed record Resolved(Lookup Result, string Path = "", string FileName = "");

    /// <summary>An existing file for GET /view. <paramref name="type"/> defaults to output; a name may carry " [input]" etc.</summary>
    public Resolved FindExisting(string? filename, string? subfolder, string? type)
    {
        if (string.IsNullOrEmpty(filename)) return new(Lookup.Invalid);
        foreach (var (suffix, annotated) in Annotations)
        {
            if (!filename.EndsWith(suffix, StringComparison.Ordinal)) continue;
            filename = filename[..^suffix.Length];
            type = annotated;
            break;
        }
        if (Root(type ?? "output") is not { } root || !TryResolve(root, subfolder, filename, out var path)) return new(Lookup.Invalid);
        return File.Exists(path) ? new(Lookup.Found, path, System.IO.Path.GetFileName(path)) : new(Lookup.NotFound);
    }

    /// <summary>The folder of a ComfyUI type name, or null for anything else.</summary>
    public string? Root(string type) => type switch
    {
        "input" => Folders.Input,
        "output" => Folders.Output,
        "temp" => Folders.Temp,
        _ => null,
    };

    /// <summary>
    /// <paramref name="subfolder"/>/<paramref name="filename"/> inside <paramref name="root"/>. The file name is one
    /// path component (directories belong in subfolder); both refuse control characters.
    /// </summary>
    public static bool TryResolve(string root, string? subfolder, string filename, out string path)
    {
        path = "";
        if (!IsFileName(filename) || !IsSafeText(subfolder ?? "")) return false;
        var relative = string.IsNullOrEmpty(subfolder) ? filename : subfolder.TrimEnd('/', '\\') + "/" + filename;
        try { return SafePath.TryResolve(root, relative, out path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException) { return false; }
    }

    /// <summary>The resolved sub-folder itself (the upload target directory), "" meaning the root.</summary>
    public static bool TryResolveFolder(string root, string? subfolder, out string path)
    {
        path = Path.GetFullPath(root);
        if (string.IsNullOrEmpty(subfolder)) return true;
        if (!IsSafeText(subfolder)) return false;
        try { return SafePath.TryResolve(root, subfolder, out path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException) { return false; }
    }

    /// <summary>One path component of at most 255 UTF-8 bytes, not "." or "..", without separators or control characters.</summary>
    public static bool IsFileName(string name) =>
        name.Length > 0 && name is not ("." or "..")
        && name.IndexOfAny(['/', '\\']) < 0 && IsSafeText(name)
        && System.Text.Encoding.UTF8.GetByteCount(name) <= 255;

    /// <summary>
    /// No control characters, and nothing that turns into a path trick when a proxy decodes it once more
    /// (<c>%2e%2e%2f</c> arriving here literally after a double encoding).
    /// </summary>
    private static bool IsSafeText(string text)
    {
        if (text.Any(char.IsControl)) return false;
        if (!text.Contains('%')) return true;
        var decoded = Uri.UnescapeDataString(text);
        return decoded == text || (decoded.IndexOfAny(['/', '\\']) < 0 && !decoded.Contains("..") && !decoded.Any(char.IsControl));
    }
}
