using CharacterGen.Diffusion.Models.Flux;
using CharacterGen.Tensors;
using CharacterGen.Tensors.Safetensors;

namespace CharacterGen.Diffusion.Checkpoints;

/// <summary>
/// Loads a FLUX.1 transformer from a safetensors file: BFL's and ComfyUI's diffusion-model files (bare
/// "double_blocks.…" names) and all-in-one checkpoints ("model.diffusion_model." prefix). The configuration is read
/// from names and shapes (<see cref="FluxConfig.Detect"/>), so dev and schnell and other widths load alike. Diffusers'
/// FluxTransformer2DModel files are converted to BFL's layout while loading (<see cref="FluxDiffusersLayout"/>).
/// </summary>
public static class FluxCheckpointLoader
{
    public const string AllInOnePrefix = "model.diffusion_model.";

    private const string DetectionKey = "double_blocks.0.img_attn.norm.key_norm.scale";

    /// <summary>The prefix the transformer's keys carry ("" or "model.diffusion_model."), or null if it has none.</summary>
    public static string? FindPrefix(IReadOnlyDictionary<string, long[]> shapes)
    {
        foreach (string prefix in (string[])["", AllInOnePrefix])
            if (shapes.ContainsKey(prefix + DetectionKey) && shapes.ContainsKey(prefix + "img_in.weight")) return prefix;
        return null;
    }

    /// <summary>Reads the configuration without loading any tensor.</summary>
    public static FluxConfig DetectConfig(string path)
    {
        using var file = SafetensorsFile.Open(path);
        var shapes = CheckpointLoader.Shapes(file);
        if (FluxDiffusersLayout.IsPresent(shapes))
            return FluxConfig.Detect(FluxDiffusersLayout.BflShapes(FluxDiffusersLayout.Sources(shapes.Keys), shapes));
        return FluxConfig.Detect(shapes, RequirePrefix(shapes, path));
    }

    /// <summary>
    /// Checks that the file's BFL-layout transformer would load (every parameter present with its shape) without
    /// reading or allocating any weight; returns the detected configuration and the parameter count.
    /// </summary>
    public static (FluxConfig Config, long Parameters) CheckLayout(string path)
    {
        using var file = SafetensorsFile.Open(path);
        var shapes = CheckpointLoader.Shapes(file);
        string prefix = RequirePrefix(shapes, path);
        FluxConfig config = FluxConfig.Detect(shapes, prefix);
        using var model = new FluxModel(config);
        var binder = new WeightBinder(file);
        binder.Add(model, prefix);
        binder.ThrowIfIncomplete();
        long count = model.NamedParameters().Sum(p => p.Value.Shape.Aggregate(1L, (a, b) => a * b));
        return (config, count);
    }

    /// <summary>
    /// Builds the transformer and fills it with the file's weights converted to <paramref name="dtype"/> on
    /// <paramref name="device"/>. Throws <see cref="CheckpointLoadException"/> naming missing or mis-shaped keys.
    /// </summary>
    public static FluxModel Load(string path, DType dtype = DType.Float32, Device device = default)
    {
        using var file = SafetensorsFile.Open(path);
        var shapes = CheckpointLoader.Shapes(file);
        if (FluxDiffusersLayout.IsPresent(shapes)) return LoadDiffusers(file, shapes, dtype, device);
        string prefix = RequirePrefix(shapes, path);
        FluxConfig config;
        try
        {
            config = FluxConfig.Detect(shapes, prefix);
        }
        catch (InvalidDataException e)
        {
            throw new CheckpointLoadException($"'{Path.GetFileName(path)}': {e.Message}");
        }
        var model = new FluxModel(config);
        try
        {
            var binder = new WeightBinder(file);
            binder.Add(model, prefix);
            binder.Load(dtype, device);
            return model;
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    private static FluxModel LoadDiffusers(SafetensorsFile file, Dictionary<string, long[]> shapes, DType dtype, Device device)
    {
        var sources = FluxDiffusersLayout.Sources(shapes.Keys);
        var bflShapes = FluxDiffusersLayout.BflShapes(sources, shapes);
        FluxConfig config;
        try
        {
            config = FluxConfig.Detect(bflShapes);
        }
        catch (InvalidDataException e)
        {
            throw new CheckpointLoadException($"'{Path.GetFileName(file.Path)}' (diffusers layout): {e.Message}");
        }
        var model = new FluxModel(config);
        try
        {
            var byName = sources.ToDictionary(s => s.BflName, StringComparer.Ordinal);
            var missing = new List<string>();
            var mismatched = new List<string>();
            foreach (var (name, p) in model.NamedParameters())
            {
                if (!bflShapes.TryGetValue(name, out long[]? shape)) missing.Add(name);
                else if (!shape.AsSpan().SequenceEqual(p.Shape))
                    mismatched.Add($"{name}: file {WeightBinder.Format(shape)} vs expected {WeightBinder.Format(p.Shape)}");
            }
            if (missing.Count > 0 || mismatched.Count > 0)
                throw new CheckpointLoadException(
                    $"'{Path.GetFileName(file.Path)}' (diffusers layout) does not fit the detected FLUX network: "
                    + string.Join("; ", missing.Take(8).Select(m => "missing " + m).Concat(mismatched.Take(8))), missing, mismatched);
            foreach (var (name, p) in model.NamedParameters())
                p.Set(FluxDiffusersLayout.Read(file, byName[name], dtype, device));
            return model;
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    private static string RequirePrefix(IReadOnlyDictionary<string, long[]> shapes, string path) =>
        FindPrefix(shapes) ?? throw new CheckpointLoadException(
            $"'{Path.GetFileName(path)}' holds no FLUX transformer (it looks like: {ModelFamilyDetector.Detect(shapes.Keys).Describe()})"
            );
}
