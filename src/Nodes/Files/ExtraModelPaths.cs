using YamlDotNet.RepresentationModel;

namespace CharacterGen.Nodes.Files;

/// <summary>One extra folder for a kind of model, from an extra_model_paths.yaml group.</summary>
/// <param name="Kind">Our folder kind (checkpoints, loras, …; ComfyUI's legacy keys such as <c>clip</c> are mapped).</param>
/// <param name="Directory">Absolute folder path.</param>
/// <param name="IsDefault">The group had <c>is_default: true</c>: searched before the models root.</param>
/// <param name="Label">How errors name it without an absolute path: "group:relative/folder".</param>
public sealed record ExtraModelFolder(string Kind, string Directory, bool IsDefault, string Label);

/// <summary>
/// ComfyUI's <c>extra_model_paths.yaml</c> (utils/extra_config.py), so an existing A1111 or ComfyUI install is used
/// unchanged: each top-level group has an optional <c>base_path</c> (env vars and <c>~</c> expanded, relative to the
/// YAML file's folder), an optional <c>is_default</c>, and <c>folder_kind: path</c> entries where a block scalar lists
/// several paths one per line. Keys that name no model kind we load (configs, hypernetworks, custom_nodes…) are
/// ignored, as ComfyUI ignores folders nothing asks for.
/// </summary>
public static class ExtraModelPaths
{
    public const string FileName = "extra_model_paths.yaml";

    /// <exception cref="InvalidDataException">The file is not a mapping of groups to mappings of strings.</exception>
    public static IReadOnlyList<ExtraModelFolder> Load(string yamlPath)
    {
        string full = Path.GetFullPath(yamlPath);
        var stream = new YamlStream();
        try
        {
            using var reader = new StreamReader(full);
            stream.Load(reader);
        }
        catch (YamlDotNet.Core.YamlException e)
        {
            throw new InvalidDataException($"{Path.GetFileName(full)}: {e.Message}", e);
        }
        if (stream.Documents.Count == 0) return [];
        if (stream.Documents[0].RootNode is not YamlMappingNode groups)
            throw new InvalidDataException($"{Path.GetFileName(full)}: expected a mapping of groups at the top level");

        string yamlDir = Path.GetDirectoryName(full)!;
        var folders = new List<ExtraModelFolder>();
        foreach (var (groupKey, groupNode) in groups.Children)
        {
            string group = Scalar(groupKey, full, "group name");
            if (groupNode is YamlScalarNode { Value: null or "" }) continue; // an empty group, as ComfyUI skips None
            if (groupNode is not YamlMappingNode entries)
                throw new InvalidDataException($"{Path.GetFileName(full)}: group '{group}' must be a mapping of folder kinds to paths");

            string? basePath = null;
            bool isDefault = false;
            var pending = new List<(string Key, string Value)>();
            foreach (var (key, value) in entries.Children)
            {
                string name = Scalar(key, full, $"a key in group '{group}'");
                string text = Scalar(value, full, $"'{group}.{name}'");
                switch (name)
                {
                    case "base_path": basePath = Absolute(Expand(text.Trim()), yamlDir); break;
                    case "is_default": isDefault = text.Trim().Equals("true", StringComparison.OrdinalIgnoreCase); break;
                    default: pending.Add((name, text)); break;
                }
            }

            foreach (var (key, text) in pending)
            {
                if (KindOf(key) is not { } kind) continue;
                foreach (string line in text.Split('\n'))
                {
                    string path = line.Trim();
                    if (path.Length == 0) continue;
                    string expanded = Expand(path);
                    string absolute = basePath is null ? Absolute(expanded, yamlDir) : Absolute(expanded, basePath);
                    folders.Add(new ExtraModelFolder(kind, absolute, isDefault, $"{group}:{path}"));
                }
            }
        }
        return folders;
    }

    /// <summary>Our kind for a YAML key: a kind's own name or one of its folder names (clip → text_encoders, unet → diffusion_models).</summary>
    public static string? KindOf(string key)
    {
        foreach (var (kind, names) in ModelFolders.Kinds)
            if (kind == key || names.Contains(key, StringComparer.Ordinal)) return kind;
        return null;
    }

    private static string Scalar(YamlNode node, string file, string what) =>
        node is YamlScalarNode scalar ? scalar.Value ?? "" : throw new InvalidDataException($"{Path.GetFileName(file)}: {what} must be text");

    /// <summary>os.path.expandvars + expanduser: $VAR, ${VAR} and a leading ~.</summary>
    private static string Expand(string path)
    {
        string expanded = System.Text.RegularExpressions.Regex.Replace(path, @"\$(\{(?<n>[A-Za-z_][A-Za-z0-9_]*)\}|(?<n>[A-Za-z_][A-Za-z0-9_]*))",
            m => Environment.GetEnvironmentVariable(m.Groups["n"].Value) ?? m.Value);
        if (expanded == "~" || expanded.StartsWith("~/", StringComparison.Ordinal))
            expanded = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile) + expanded[1..];
        return expanded;
    }

    private static string Absolute(string path, string relativeTo) =>
        Path.GetFullPath(Path.IsPathRooted(path) ? path : Path.Combine(relativeTo, path));
}
