using CharacterGen.Diffusion.Models.T5;
using CharacterGen.Tensors;
using CharacterGen.Tensors.Safetensors;

namespace CharacterGen.Diffusion.Checkpoints;

/// <summary>
/// Loads a T5 v1.1 encoder (models/text_encoders/t5xxl_*.safetensors in HF T5EncoderModel names, or the
/// "text_encoders.t5xxl.transformer." part of an all-in-one FLUX checkpoint). Files that store the embedding only as
/// encoder.embed_tokens.weight (no "shared.weight") load too.
/// </summary>
public static class T5CheckpointLoader
{
    public const string AllInOnePrefix = "text_encoders.t5xxl.transformer.";

    private const string DetectionKey = "encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight";

    public static string? FindPrefix(IReadOnlyDictionary<string, long[]> shapes)
    {
        foreach (string prefix in (string[])["", AllInOnePrefix])
            if (shapes.ContainsKey(prefix + DetectionKey)) return prefix;
        return null;
    }

    public static T5Encoder Load(string path, DType dtype = DType.Float32, Device device = default)
    {
        using var file = SafetensorsFile.Open(path);
        var shapes = CheckpointLoader.Shapes(file);
        string prefix = FindPrefix(shapes) ?? throw new CheckpointLoadException(
            $"'{Path.GetFileName(path)}' holds no T5 encoder (it looks like: {ModelFamilyDetector.Detect(shapes.Keys).Describe()})");
        string embedding = shapes.ContainsKey(prefix + "shared.weight") ? "shared.weight" : "encoder.embed_tokens.weight";
        if (embedding != "shared.weight" && shapes.TryGetValue(prefix + embedding, out long[]? e)) shapes[prefix + "shared.weight"] = e;
        T5Config config;
        try
        {
            config = T5Config.Detect(shapes, prefix);
        }
        catch (InvalidDataException ex)
        {
            throw new CheckpointLoadException($"'{Path.GetFileName(path)}': {ex.Message}");
        }
        var model = new T5Encoder(config);
        try
        {
            var binder = new WeightBinder(file);
            binder.Add(model, name => new WeightRef(prefix + (name == "shared.weight" ? embedding : name)));
            binder.Load(dtype, device);
            return model;
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }
}
