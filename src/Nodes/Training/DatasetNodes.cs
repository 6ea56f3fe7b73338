using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using CharacterGen.Diffusion.Imaging;
using CharacterGen.GraphRuntime.Contracts;
using CharacterGen.Nodes.Conditioning;
using CharacterGen.Nodes.Files;
using CharacterGen.Nodes.Image;
using CharacterGen.Nodes.Latent;
using CharacterGen.Nodes.Runtime;
using CharacterGen.Nodes.Values;
using CharacterGen.Tensors;

namespace CharacterGen.Nodes.Training;

/// <summary>
/// ComfyUI's dataset nodes (comfy_extras/nodes_dataset.py): LoadImageTextDataSetFromFolder reads an input/ subfolder
/// (uploads land there too) as images with same-name .txt captions, kohya's "N_name" subfolders repeated N times;
/// MakeTrainingDataset encodes them once with the VAE and the text encoder, so training reads cached latents and
/// embeddings.
/// </summary>
internal static class DatasetNodes
{
    private static readonly HashSet<string> ImageExtensions = new(StringComparer.OrdinalIgnoreCase) { ".png", ".jpg", ".jpeg", ".webp" };

    public static IEnumerable<NodeDefinition> Definitions(NodeFolders folders) => [LoadImageTextDataSet(folders), MakeTrainingDataset];

    private static NodeDefinition LoadImageTextDataSet(NodeFolders folders) => new NodeBuilder("LoadImageTextDataSetFromFolder")
        .DisplayName("Load Image and Text Dataset from Folder").Category("dataset").Experimental()
        .Description("Loads a batch of images and caption from a directory for training.")
        .Required(InputSpec.Combo("folder", () => Subfolders(folders.Data)) with { Tooltip = "The folder to load images from." })
        .Output(IoTypes.Image, "images", isList: true, tooltip: "List of loaded images")
        .Output(IoTypes.String, "texts", isList: true, tooltip: "List of text captions")
        .Fingerprint(l => l.TryGetValue("folder", out object? f) && f is string name ? FolderFingerprint(folders.Data, name) : null)
        .EstimateMemory(m => m.Literals.TryGetValue("folder", out object? f) && f is string name ? DatasetMemory(folders.Data, name) : MemoryEstimate.Unknown)
        .ExecuteTensors((_, i) =>
        {
            var (files, captions) = List(folders.Data, i.Get<string>("folder"));
            var images = new List<Tensor>();
            foreach (string file in files)
            {
                (Tensor image, Tensor _) = ImageTensors.ToImageAndMask(ImageDecoder.Decode(File.ReadAllBytes(file)));
                images.Add(image.DetachFromScope());
            }
            return NodeOutput.Of(images, captions);
        })
        .Build();

    private static NodeDefinition MakeTrainingDataset { get; } = new NodeBuilder("MakeTrainingDataset")
        .DisplayName("Make Training Dataset").Category("dataset").Experimental().InputIsList()
        .Description("Encodes images with VAE and texts with CLIP to create a training dataset. Returns a list of latents and a flat conditioning list.")
        .Required(InputSpec.Link("images", IoTypes.Image) with { Tooltip = "List of images to encode." })
        .Required(InputSpec.Link("vae", IoTypes.Vae) with { Tooltip = "VAE model for encoding images to latents." })
        .Required(InputSpec.Link("clip", IoTypes.Clip) with { Tooltip = "CLIP model for encoding text to conditioning." })
        .Optional(InputSpec.Link("texts", IoTypes.String) with { Tooltip = "List of text captions. Can be length n (matching images), 1 (repeated for all), or omitted (uses empty string)." })
        .Output(IoTypes.Latent, "latents", isList: true, tooltip: "List of latent dicts")
        .Output(IoTypes.Conditioning, "conditioning", isList: true, tooltip: "List of conditioning lists")
        .ExecuteTensors((ctx, i) =>
        {
            var images = i.GetList("images").Cast<Tensor>().ToList();
            var vae = (VaeValue)i.GetList("vae")[0]!;
            var clip = (ClipValue)i.GetList("clip")[0]!;
            IReadOnlyList<string> texts = i.Contains("texts") && i["texts"] is IReadOnlyList<object?> t ? t.Cast<string>().ToList() : [""];
            if (texts.Count == 1 && images.Count > 1) texts = Enumerable.Repeat(texts[0], images.Count).ToList();
            if (texts.Count != images.Count)
                throw new ArgumentException($"Number of texts ({texts.Count}) does not match number of images ({images.Count}). Text list should have length {images.Count}, 1, or 0.");
            var latents = new List<LatentValue>();
            var conditions = new List<ConditioningValue>();
            for (int n = 0; n < images.Count; n++)
            {
                ctx.ThrowIfCancellationRequested();
                Tensor latent = VaeNodes.Encode(vae, images[n]).DetachFromScope();
                latents.Add(new LatentValue(latent));
                ConditioningValue cond = TextEncodeNodes.Encode(clip, texts[n]);
                foreach (Tensor owned in cond.OwnedTensors) owned.DetachFromScope();
                conditions.Add(cond);
            }
            return NodeOutput.Of(latents, conditions);
        })
        .Build();

    /// <summary>Subfolders of input/ (ComfyUI folder_paths.get_input_subfolders: every level, "/"-joined), sorted.</summary>
    private static IReadOnlyList<string> Subfolders(DataFolders data)
    {
        if (!Directory.Exists(data.Input)) return [];
        return Directory.EnumerateDirectories(data.Input, "*", SearchOption.AllDirectories)
            .Select(d => Path.GetRelativePath(data.Input, d).Replace('\\', '/'))
            .Order(StringComparer.Ordinal).ToList();
    }

    /// <summary>The image files (repeats included, in a stable order) and their captions ("" without a .txt).</summary>
    internal static (List<string> Files, List<string> Captions) List(DataFolders data, string folder)
    {
        string root = SafePath.Resolve(data.Input, folder);
        if (!Directory.Exists(root)) throw new DirectoryNotFoundException($"dataset folder '{folder}' does not exist in the input folder");
        var files = new List<string>();
        files.AddRange(Images(root));
        foreach (string sub in Directory.EnumerateDirectories(root).Order(StringComparer.Ordinal))
        {
            // kohya sd-scripts: "10_alice" repeats its images 10 times per epoch.
            string name = Path.GetFileName(sub);
            string head = name.Split('_')[0];
            int repeat = head.Length > 0 && head.All(char.IsAsciiDigit) && int.TryParse(head, CultureInfo.InvariantCulture, out int r) ? r : 1;
            var images = Images(sub);
            for (int k = 0; k < repeat; k++) files.AddRange(images);
        }
        if (files.Count == 0) throw new ArgumentException($"dataset folder '{folder}' has no .png, .jpg, .jpeg or .webp images");
        var captions = files.Select(f => Path.ChangeExtension(f, ".txt")).Select(c => File.Exists(c) ? File.ReadAllText(c, Encoding.UTF8).Trim() : "").ToList();
        return (files, captions);
    }

    // From the files' headers (each read once however often a repeat lists it); an unreadable file is the decoder's to report.
    private static MemoryEstimate DatasetMemory(DataFolders data, string folder)
    {
        var headers = new Dictionary<string, (ImageHeader, long)?>(StringComparer.Ordinal);
        var files = new List<(ImageHeader, long)>();
        foreach (string file in List(data, folder).Files)
        {
            if (!headers.TryGetValue(file, out var header))
            {
                try { header = (ImageDecoder.ReadHeader(file), new FileInfo(file).Length); }
                catch (Exception e) when (e is ImageDecodeException or IOException) { header = null; }
                headers[file] = header;
            }
            if (header is { } known) files.Add(known);
        }
        return ImageMemory.LoadAll(files);
    }

    private static List<string> Images(string folder) => Directory.EnumerateFiles(folder)
        .Where(f => ImageExtensions.Contains(Path.GetExtension(f)))
        .Order(StringComparer.Ordinal).ToList();

    // IS_CHANGED: names, sizes and write times of every file under the folder, so an edited dataset re-runs the node.
    private static string? FolderFingerprint(DataFolders data, string folder)
    {
        if (!SafePath.TryResolve(data.Input, folder, out string root) || !Directory.Exists(root)) return null;
        var text = new StringBuilder();
        foreach (string f in Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            var info = new FileInfo(f);
            text.Append(CultureInfo.InvariantCulture, $"{Path.GetRelativePath(root, f)}|{info.Length}|{info.LastWriteTimeUtc.Ticks}\n");
        }
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())));
    }
}
