using CharacterGen.Diffusion.Checkpoints;
using CharacterGen.Tensors;
using CharacterGen.Tensors.Safetensors;

namespace CharacterGen.Diffusion.Models.ClipVision;

/// <summary>Loads a CLIP image encoder from a safetensors file in the HF layout (the files ComfyUI's models/clip_vision holds).</summary>
public static class ClipVisionLoader
{
    public static ClipVisionModel Load(string path, DType dtype = DType.Float32, Device device = default)
    {
        using var file = SafetensorsFile.Open(path);
        var shapes = CheckpointLoader.Shapes(file);
        if (!ClipVisionConfig.Matches(shapes))
        {
            string hint = shapes.Keys.Any(k => k.StartsWith("visual.", StringComparison.Ordinal))
                ? " (OpenCLIP 'visual.' layout: convert it to the HF layout)"
                : $"; it looks like a {ModelFamilyDetector.Detect(shapes.Keys).Describe()}";
            throw new CheckpointLoadException(
                $"'{Path.GetFileName(path)}' is not a CLIP vision model (expected HF keys 'vision_model.…' and 'visual_projection.weight'){hint}");
        }
        var model = new ClipVisionModel(ClipVisionConfig.Detect(shapes));
        try
        {
            var binder = new WeightBinder(file);
            binder.Add(model, "");
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
