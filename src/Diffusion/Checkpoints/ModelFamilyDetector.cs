namespace CharacterGen.Diffusion.Checkpoints;

/// <summary>
/// Recognises a weights file's family from its tensor names (the prefixes of the ComfyUI/LDM single-file layout),
/// as ComfyUI's model detection starts. Shapes refine the configuration later, in the family's own loader.
/// </summary>
public static class ModelFamilyDetector
{
    public static ModelFamily Detect(IEnumerable<string> tensorNames)
    {
        var names = tensorNames as IReadOnlyCollection<string> ?? tensorNames.ToList();
        bool Any(string prefix) => names.Any(n => n.StartsWith(prefix, StringComparison.Ordinal));

        if (names.Any(IsLoraKey)) return ModelFamily.Lora;
        if (Any("conditioner.embedders.1.") && Any("model.diffusion_model.")) return ModelFamily.SDXLCheckpoint;
        if (Any("model.diffusion_model.input_blocks."))
        {
            if (Any("cond_stage_model.model.")) return ModelFamily.SD2Checkpoint;
            return ModelFamily.SD1Checkpoint;
        }
        if (Any("double_blocks.") || Any("model.diffusion_model.double_blocks.")) return ModelFamily.FluxDiffusionModel;
        if (Any("single_transformer_blocks.") && Any("x_embedder.")) return ModelFamily.FluxDiffusionModel; // diffusers FLUX
        if (Any("encoder.conv_in.") && Any("decoder.conv_out.")) return ModelFamily.Vae;
        if (Any("text_model.encoder.layers.") || Any("transformer.text_model.")) return ModelFamily.TextEncoder;
        if (Any("encoder.block.0.layer.0.SelfAttention.")) return ModelFamily.TextEncoder; // T5
        return ModelFamily.Unknown;
    }

    private static bool IsLoraKey(string name) =>
        name.StartsWith("lora_unet_", StringComparison.Ordinal) || name.StartsWith("lora_te", StringComparison.Ordinal)
        || name.Contains(".lora_A.", StringComparison.Ordinal) || name.Contains(".lora_down.", StringComparison.Ordinal)
        || name.Contains(".lora.down.", StringComparison.Ordinal);
}
