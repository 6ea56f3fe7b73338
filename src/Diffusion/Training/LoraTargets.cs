namespace CharacterGen.Diffusion.Training;

/// <summary>Which UNet layers get a LoRA branch.</summary>
public enum LoraTargets
{
    /// <summary>The attention projections to_q, to_k, to_v and to_out.0 of every transformer block.</summary>
    Attention,

    /// <summary>
    /// kohya networks/lora.py's default: every Linear and 1×1 Conv2d inside the spatial transformers (attention
    /// projections, GEGLU in/out, proj_in, proj_out).
    /// </summary>
    Transformer,

    /// <summary>Every Linear and Conv2d of the UNet, 3×3 included (ComfyUI's TrainLoraNode).</summary>
    All,
}
