using System.Text.Json;
using CharacterGen.Nodes.Files;

namespace CharacterGen.Nodes.ModelCaching;

/// <summary>
/// The configured model aliases (per-user or per-character models). An alias name may not end in a weight extension
/// (.safetensors, .sft), so it can never collide with a checkpoint file name: a name is a file or an alias, never both.
/// </summary>
public sealed class ModelAliases
{
    /// <summary>The file a `run` reads from its models folder, in the same shape as the server's ModelAliases section.</summary>
    public const string FileName = "aliases.json";

    public static readonly ModelAliases Empty = new([]);

    private readonly Dictionary<string, ModelAlias> _byName;

    public ModelAliases(IEnumerable<ModelAlias> aliases) => _byName = aliases.ToDictionary(a => a.Name, StringComparer.Ordinal);

    /// <summary>Alias names, sorted.</summary>
    public IReadOnlyList<string> Names => [.. _byName.Keys.Order(StringComparer.Ordinal)];

    /// <summary>Aliases, sorted by name.</summary>
    public IReadOnlyList<ModelAlias> All => [.. _byName.Values.OrderBy(a => a.Name, StringComparer.Ordinal)];

    public bool TryGet(string name, out ModelAlias alias) => _byName.TryGetValue(name, out alias!);

    /// <summary>Aliases from settings; throws <see cref="ArgumentException"/> listing every problem.</summary>
    public static ModelAliases From(IReadOnlyDictionary<string, ModelAliasSettings>? settings)
    {
        if (settings is null || settings.Count == 0) return Empty;
        var errors = Validate(settings);
        if (errors.Count > 0) throw new ArgumentException(string.Join(Environment.NewLine, errors));
        return new(settings.Select(s => new ModelAlias(s.Key, s.Value.Checkpoint, [.. s.Value.Loras])));
    }

    /// <summary>
    /// Problems with the settings that need no models tree: names, empty or escaping file names, non-finite strengths.
    /// Missing files are not errors here (they may be added later); see <see cref="MissingFiles"/>.
    /// </summary>
    public static IReadOnlyList<string> Validate(IReadOnlyDictionary<string, ModelAliasSettings> settings)
    {
        var errors = new List<string>();
        foreach (var (name, alias) in settings)
        {
            string at = $"ModelAliases:{name}:";
            if (string.IsNullOrWhiteSpace(name) || name.Contains('\0'))
                errors.Add($"ModelAliases: alias name '{name}' must not be empty.");
            else if (ModelFolders.WeightExtensions.Contains(Path.GetExtension(name)))
                errors.Add($"{at} alias names must not end in {string.Join(" or ", ModelFolders.WeightExtensions)}, so they never collide with a file name.");
            if (alias is null) { errors.Add($"{at} has no settings."); continue; }
            CheckName(errors, at + "Checkpoint", alias.Checkpoint);
            for (int i = 0; i < alias.Loras.Count; i++)
            {
                AliasLora lora = alias.Loras[i];
                CheckName(errors, $"{at}Loras:{i}:Name", lora.Name);
                if (!double.IsFinite(lora.StrengthModel) || !double.IsFinite(lora.StrengthClip))
                    errors.Add($"{at}Loras:{i}: strengths must be finite numbers.");
            }
        }
        return errors;
    }

    /// <summary>Referenced files that do not exist (yet) in the models tree, one line each: worth a warning at start-up.</summary>
    public IReadOnlyList<string> MissingFiles(ModelFolders folders)
    {
        var missing = new List<string>();
        foreach (ModelAlias alias in All)
        {
            Check(alias, "checkpoints", alias.Checkpoint);
            foreach (AliasLora lora in alias.Loras) Check(alias, "loras", lora.Name);
        }
        return missing;

        void Check(ModelAlias alias, string kind, string name)
        {
            try { folders.Resolve(kind, name); }
            catch (Exception e) when (e is FileNotFoundException or PathEscapeException) { missing.Add($"model alias '{alias.Name}': {e.Message}"); }
        }
    }

    /// <summary>Reads <c>aliases.json</c> from a models folder; none there means no aliases.</summary>
    /// <exception cref="InvalidDataException">Unreadable JSON or invalid aliases; the message names the file.</exception>
    public static ModelAliases Load(string modelsRoot)
    {
        string path = Path.Combine(modelsRoot, FileName);
        if (!File.Exists(path)) return Empty;
        Dictionary<string, ModelAliasSettings>? settings;
        try
        {
            settings = JsonSerializer.Deserialize<Dictionary<string, ModelAliasSettings>>(File.ReadAllText(path),
                new JsonSerializerOptions(JsonSerializerDefaults.Web) { ReadCommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: {e.Message}", e);
        }
        try { return From(settings); }
        catch (ArgumentException e) { throw new InvalidDataException($"{path}:{Environment.NewLine}{e.Message}", e); }
    }

    // Absolute paths and '..' are refused without touching the disk; links are checked again by SafePath when used.
    private static void CheckName(List<string> errors, string key, string? name)
    {
        if (string.IsNullOrWhiteSpace(name)) { errors.Add($"{key} must not be empty."); return; }
        if (!SafePath.TryResolve("/models-root", name, out _)) errors.Add($"{key} '{name}' must be a name inside its folder (no absolute path, no '..').");
    }
}
