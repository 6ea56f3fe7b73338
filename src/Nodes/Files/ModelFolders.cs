namespace CharacterGen.Nodes.Files;

/// <summary>
/// A ComfyUI-compatible models tree (checkpoints/, loras/, vae/, …), so users can point CharacterGen at an existing
/// ComfyUI `models` folder, plus the folders of an <c>extra_model_paths.yaml</c> (in the models root, or given by the
/// operator). Lists the weight files of a kind (COMBO options) and resolves a chosen name.
/// Model folders are the operator's: symbolic links inside them (shared model storage) are followed wherever they
/// point. Clients still only select among listed names: a name is resolved by its text inside one of the folders,
/// so `..`, absolute paths and NUL bytes are refused.
/// </summary>
public sealed class ModelFolders
{
    /// <summary>Folder kinds and the folders each reads, ComfyUI's legacy names last.</summary>
    public static readonly IReadOnlyDictionary<string, string[]> Kinds = new Dictionary<string, string[]>
    {
        ["checkpoints"] = ["checkpoints"],
        ["loras"] = ["loras"],
        ["vae"] = ["vae"],
        ["embeddings"] = ["embeddings"],
        ["controlnet"] = ["controlnet", "t2i_adapter"],
        ["clip_vision"] = ["clip_vision"],
        ["ipadapter"] = ["ipadapter"],
        ["diffusion_models"] = ["diffusion_models", "unet"],
        ["text_encoders"] = ["text_encoders", "clip"],
        ["upscale_models"] = ["upscale_models"],
        ["depth"] = ["depth"], // ONNX depth estimators (docs/depth-and-faces.md)
        ["insightface"] = ["insightface"], // InsightFace packs: insightface/models/NAME/*.onnx, as ComfyUI keeps them
    };

    /// <summary>Extensions listed as loadable weights. Pickle formats are listed nowhere: we never load them.</summary>
    public static readonly IReadOnlySet<string> WeightExtensions = new HashSet<string>(StringComparer.OrdinalIgnoreCase) { ".safetensors", ".sft" };

    /// <summary>Deepest sub-folder level listed: a guard against pathological trees, far beyond real layouts.</summary>
    public const int MaxDepth = 16;

    private readonly IReadOnlyList<ExtraModelFolder> _extra;

    /// <param name="root">The models folder; its <c>extra_model_paths.yaml</c>, when present, is read too.</param>
    /// <param name="extraConfigFiles">More extra_model_paths.yaml files (ComfyUI's --extra-model-paths-config).</param>
    /// <exception cref="InvalidDataException">An extra_model_paths.yaml is malformed.</exception>
    /// <exception cref="FileNotFoundException">A named extra config file does not exist.</exception>
    /// <param name="extraFolders">Folders the server itself adds (the character LoRAs under its data folder), searched last.</param>
    public ModelFolders(string root, IEnumerable<string>? extraConfigFiles = null, IEnumerable<ExtraModelFolder>? extraFolders = null)
    {
        Root = Path.GetFullPath(root);
        var extra = new List<ExtraModelFolder>();
        string inRoot = Path.Combine(Root, ExtraModelPaths.FileName);
        if (File.Exists(inRoot)) extra.AddRange(ExtraModelPaths.Load(inRoot));
        foreach (string file in extraConfigFiles ?? [])
        {
            if (!File.Exists(file)) throw new FileNotFoundException($"extra model paths file not found: {file}", file);
            extra.AddRange(ExtraModelPaths.Load(file));
        }
        extra.AddRange(extraFolders ?? []);
        _extra = extra;
    }

    public string Root { get; }

    /// <summary>The folders a kind is read from, in search order, each with the label errors use for it.</summary>
    public IReadOnlyList<(string Directory, string Label)> SearchFolders(string kind)
    {
        string[] names = FoldersOf(kind);
        var folders = new List<(string, string)>();
        foreach (var e in _extra) if (e.IsDefault && e.Kind == kind) folders.Add((e.Directory, e.Label));
        foreach (string name in names) folders.Add((Path.Combine(Root, name), name + "/"));
        foreach (var e in _extra) if (!e.IsDefault && e.Kind == kind) folders.Add((e.Directory, e.Label));
        return folders;
    }

    /// <summary>Weight files of a kind, as names relative to their folder ("sub/model.safetensors"), sorted.</summary>
    public IReadOnlyList<string> List(string kind)
    {
        var names = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var (dir, _) in SearchFolders(kind))
            if (Directory.Exists(dir)) AddWeightFiles(dir, "", names, new HashSet<string>(StringComparer.Ordinal), 0);
        return [.. names];
    }

    /// <summary>The full path of a file of this kind, from the first folder that has it.</summary>
    /// <exception cref="PathEscapeException">The name is absolute or climbs out of its folder.</exception>
    /// <exception cref="FileNotFoundException">No folder has it; the message names every folder searched.</exception>
    public string Resolve(string kind, string name)
    {
        var folders = SearchFolders(kind);
        foreach (var (dir, _) in folders)
        {
            string path = SafePath.ResolveLexically(dir, name);
            if (Readable(new FileInfo(path))) return path;
        }
        throw new FileNotFoundException($"no {kind} file named '{name}'; searched {SearchedText(kind)}");
    }

    /// <summary>"checkpoints/, a111:models/Stable-diffusion": the folders searched for a kind, without absolute paths.</summary>
    public string SearchedText(string kind) => string.Join(", ", SearchFolders(kind).Select(f => f.Label));

    private static void AddWeightFiles(string dir, string prefix, SortedSet<string> names, HashSet<string> visited, int depth)
    {
        // A linked folder can lead back to an ancestor: each real folder is listed once.
        if (depth > MaxDepth || !visited.Add(SafePath.RealPath(dir))) return;
        IEnumerable<FileSystemInfo> entries;
        try
        {
            entries = new DirectoryInfo(dir).EnumerateFileSystemInfos("*", new EnumerationOptions { IgnoreInaccessible = true, AttributesToSkip = FileAttributes.Hidden });
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return;
        }
        foreach (var entry in entries)
        {
            string name = prefix + entry.Name;
            if (Directory.Exists(entry.FullName)) AddWeightFiles(entry.FullName, name + "/", names, visited, depth + 1);
            else if (WeightExtensions.Contains(Path.GetExtension(entry.Name)) && Readable(entry)) names.Add(name);
        }
    }

    /// <summary>A file, or a link whose final target is a file (File.Exists is true for a dangling link on Unix).</summary>
    private static bool Readable(FileSystemInfo entry)
    {
        if (entry.LinkTarget is null) return entry is FileInfo { Exists: true };
        try
        {
            return entry.ResolveLinkTarget(returnFinalTarget: true) is FileInfo { Exists: true };
        }
        catch (IOException)
        {
            return false; // a link cycle
        }
    }

    private static string[] FoldersOf(string kind) =>
        Kinds.TryGetValue(kind, out var folders) ? folders : throw new ArgumentException($"unknown model folder kind '{kind}'");
}
