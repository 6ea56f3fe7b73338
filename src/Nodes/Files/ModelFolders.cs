namespace CharacterGen.Nodes.Files;

/// <summary>
/// A ComfyUI-compatible models tree (checkpoints/, loras/, vae/, …), so users can point CharacterGen at an existing
/// ComfyUI `models` folder. Lists the weight files of a kind (COMBO options) and resolves a chosen name safely.
/// </summary>
public sealed class ModelFolders(string root)
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
    };

    /// <summary>Extensions listed as loadable weights. Pickle formats are listed nowhere: we never load them.</summary>
    public static readonly IReadOnlySet<string> WeightExtensions = new HashSet<string>(StringComparer.OrdinalIgnoreCase) { ".safetensors", ".sft" };

    public string Root { get; } = Path.GetFullPath(root);

    /// <summary>Weight files of a kind, as names relative to their folder ("sub/model.safetensors"), sorted.</summary>
    public IReadOnlyList<string> List(string kind)
    {
        var names = new SortedSet<string>(StringComparer.Ordinal);
        foreach (string folder in FoldersOf(kind))
        {
            string dir = Path.Combine(Root, folder);
            if (!Directory.Exists(dir)) continue;
            var options = new EnumerationOptions { RecurseSubdirectories = true, IgnoreInaccessible = true, AttributesToSkip = FileAttributes.Hidden };
            foreach (string file in Directory.EnumerateFiles(dir, "*", options))
            {
                if (!WeightExtensions.Contains(Path.GetExtension(file))) continue;
                string relative = Path.GetRelativePath(dir, file).Replace('\\', '/');
                if (SafePath.TryResolve(dir, relative, out _)) names.Add(relative);
            }
        }
        return [.. names];
    }

    /// <summary>The full path of a listed file; throws if the name is not a file of this kind or escapes its folder.</summary>
    public string Resolve(string kind, string name)
    {
        foreach (string folder in FoldersOf(kind))
        {
            string path = SafePath.Resolve(Path.Combine(Root, folder), name);
            if (File.Exists(path)) return path;
        }
        throw new FileNotFoundException($"no {kind} file named '{name}' in {string.Join(" or ", FoldersOf(kind).Select(f => f + "/"))}");
    }

    private static string[] FoldersOf(string kind) =>
        Kinds.TryGetValue(kind, out var folders) ? folders : throw new ArgumentException($"unknown model folder kind '{kind}'");
}
