using System.Globalization;
using System.IO.Compression;
using System.Text.Json.Nodes;
using CharacterGen.Diffusion.Imaging;
using CharacterGen.Nodes.Files;
using CharacterGen.Tensors;

namespace CharacterGen.Nodes.Image;

/// <summary>One saved file as ComfyUI reports it in ui.images.</summary>
public sealed record SavedImage(string Filename, string Subfolder, string Type)
{
    public Dictionary<string, object?> ToUi() => new() { ["filename"] = Filename, ["subfolder"] = Subfolder, ["type"] = Type };
}

/// <summary>
/// ComfyUI's SaveImage file naming (folder_paths.get_save_image_path): <c>{prefix}_{counter:05}_.png</c>, the counter
/// one above the highest already in the folder for that prefix; the prefix may name a subfolder (which must stay in the
/// root) and use %width% %height% %year% %month% %day% %hour% %minute% %second% %batch_num%. PNGs carry the prompt and
/// each extra_pnginfo key (e.g. workflow) as text chunks, and are written atomically (temporary file, then rename).
/// </summary>
internal static class OutputImageWriter
{
    public static IReadOnlyList<SavedImage> Save(Tensor images, string root, string type, string prefix,
        JsonNode? prompt, JsonNode? extraPngInfo, CompressionLevel level, DateTime? now = null)
    {
        if (images.Dim != 4) throw new ArgumentException($"images must be [B, H, W, C], got {images}");
        prefix = ExpandVariables(prefix, images.Size(2), images.Size(1), now ?? DateTime.Now);
        var (subfolder, filename) = SplitPrefix(prefix);
        string folder = subfolder.Length == 0 ? Path.GetFullPath(root) : SafePath.Resolve(root, subfolder);
        Directory.CreateDirectory(folder);
        int counter = NextCounter(folder, filename);
        var text = Metadata(prompt, extraPngInfo);

        var saved = new List<SavedImage>();
        for (int b = 0; b < images.Size(0); b++)
        {
            Diffusion.Interrupts.ThrowIfRequested();
            byte[] png;
            using (Torch.NewScope()) png = PngWriter.Encode(ImageTensors.ToPixels(images.Select(0, b)), text, level);
            string name = filename.Replace("%batch_num%", b.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal);
            string file;
            while (!TryWrite(folder, file = $"{name}_{counter:D5}_.png", png, type)) counter++; // another writer took it
            saved.Add(new SavedImage(file, subfolder, type));
            counter++;
        }
        return saved;
    }

    /// <summary>normpath(prefix) split into (dirname, basename), with "/" separators.</summary>
    public static (string Subfolder, string Filename) SplitPrefix(string prefix)
    {
        var parts = new List<string>();
        foreach (string part in prefix.Replace('\\', '/').Split('/'))
        {
            if (part.Length == 0 || part == ".") continue;
            if (part == ".." && parts.Count > 0 && parts[^1] != "..") parts.RemoveAt(parts.Count - 1);
            else parts.Add(part);
        }
        if (prefix.StartsWith('/')) throw new PathEscapeException("Saving image outside the output folder is not allowed.");
        if (parts.Count == 0) return ("", "");
        return (string.Join('/', parts.Take(parts.Count - 1)), parts[^1]);
    }

    /// <summary>1 + the highest counter among files named <c>{filename}_NNNNN…</c> (1 when there are none).</summary>
    public static int NextCounter(string folder, string filename)
    {
        int highest = 0;
        foreach (string path in Directory.EnumerateFiles(folder))
        {
            string name = Path.GetFileName(path);
            if (name.Length <= filename.Length || !name.StartsWith(filename, StringComparison.Ordinal) || name[filename.Length] != '_')
                continue;
            string digits = name[(filename.Length + 1)..].Split('_')[0];
            if (int.TryParse(digits, NumberStyles.AllowLeadingWhite | NumberStyles.AllowTrailingWhite | NumberStyles.AllowLeadingSign,
                    CultureInfo.InvariantCulture, out int n))
                highest = Math.Max(highest, n);
        }
        return highest + 1;
    }

    private static string ExpandVariables(string prefix, long width, long height, DateTime now)
    {
        if (!prefix.Contains('%')) return prefix;
        string Two(int v) => v.ToString("00", CultureInfo.InvariantCulture);
        return prefix.Replace("%width%", width.ToString(CultureInfo.InvariantCulture))
            .Replace("%height%", height.ToString(CultureInfo.InvariantCulture))
            .Replace("%year%", now.Year.ToString(CultureInfo.InvariantCulture))
            .Replace("%month%", Two(now.Month)).Replace("%day%", Two(now.Day))
            .Replace("%hour%", Two(now.Hour)).Replace("%minute%", Two(now.Minute)).Replace("%second%", Two(now.Second));
    }

    private static List<KeyValuePair<string, string>> Metadata(JsonNode? prompt, JsonNode? extraPngInfo)
    {
        var text = new List<KeyValuePair<string, string>>();
        if (prompt is not null) text.Add(new("prompt", prompt.ToJsonString()));
        if (extraPngInfo is JsonObject extra)
            foreach (var (key, value) in extra)
                text.Add(new(key, value?.ToJsonString() ?? "null"));
        return text;
    }

    // Write beside the target, then rename without overwriting: a reader never sees half a PNG, and a failed write
    // (disk full) leaves no temporary behind.
    private static bool TryWrite(string folder, string file, byte[] bytes, string type) =>
        AtomicFile.Write(Path.Combine(folder, file), bytes, type);
}
