using CharacterGen.Diffusion.Models.Flux;
using CharacterGen.Tensors;
using CharacterGen.Tensors.Safetensors;

namespace CharacterGen.Diffusion.Checkpoints;

/// <summary>
/// Loads a FLUX.1 transformer from a safetensors file: BFL's and ComfyUI's diffusion-model files (bare
/// "double_blocks.…" names) and all-in-one checkpoints ("model.diffusion_model." prefix). The configuration is read
/// from names and shapes (<see cref="FluxConfig.Detect"/>), so dev and schnell and other widths load alike.
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
        return FluxConfig.Detect(shapes, RequirePrefix(shapes, path));
    }

    /// <summary>
    /// Builds the transformer and fills it with the file's weights converted to <paramref name="dtype"/> on
    /// <paramref name="device"/>. Throws <see cref="CheckpointLoadException"/> naming missing or mis-shaped keys.
    /// </summary>
    public static FluxModel Load(string path, DType dtype = DType.Float32, Device device = default)
    {
        using var file = SafetensorsFile.Open(path);
        var shapes = CheckpointLoader.Shapes(file);
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

    private static string RequirePrefix(IReadOnlyDictionary<string, long[]> shapes, string path) =>
        FindPrefix(shapes) ?? throw new CheckpointLoadException(
            $"'{Path.GetFileName(path)}' holds no FLUX transformer (it looks like: {ModelFamilyDetector.Detect(shapes.Keys).Describe()})"
            + (shapes.ContainsKey("transformer_blocks.0.attn.to_q.weight") ? "; the diffusers layout is not supported yet" : ""));
}
