using CharacterGen.Tensors;

namespace CharacterGen.Diffusion.Models.Unet;

/// <summary>Which part of the UNet a layer sits in (ComfyUI transformer_options "block"[0]).</summary>
public enum UnetStage { Input, Middle, Output }

/// <summary>
/// Where a cross-attention layer sits, as ComfyUI keys its attention patches: the stage, the block's index within
/// input_blocks / output_blocks (0 for the middle block) and the transformer block's index within its
/// SpatialTransformer (e.g. SDXL ("input", 7, 3)).
/// </summary>
public readonly record struct AttentionSite(UnetStage Stage, int Block, int TransformerIndex);

/// <summary>
/// Replaces what a cross-attention (attn2) layer hands to to_out (ComfyUI's attn2 replace patch, used by IP-Adapter):
/// it gets the layer's attention output and its projected queries and returns the output to project.
/// </summary>
public interface ICrossAttentionPatch
{
    /// <param name="output">softmax(QKᵀ/√d)V of the layer's own keys and values, [B, N, heads·headDim].</param>
    /// <param name="q">The layer's projected queries to_q(x), [B, N, heads·headDim].</param>
    /// <param name="heads">The layer's head count.</param>
    /// <param name="site">Where the layer sits.</param>
    /// <param name="call">The call's batch facts (σ and conditioning of each row).</param>
    Tensor Apply(Tensor output, Tensor q, int heads, AttentionSite site, UnetCall call);
}

/// <summary>
/// ControlNet residuals for one UNet call (ComfyUI's control dict): <see cref="Skips"/>[i] is added to the skip
/// connection saved after input block i (a null entry adds nothing), <see cref="Middle"/> to the middle block's output.
/// Shapes match those tensors; strength is already applied.
/// </summary>
public sealed record ControlResiduals(IReadOnlyList<Tensor?> Skips, Tensor? Middle);

/// <summary>
/// What a UNet call carries besides x, t, context and y: ControlNet residuals and attn2 patches, plus the facts about the
/// batch those need. Built per call by the denoiser (<see cref="UnetCallBuilder"/>).
/// </summary>
public sealed class UnetCall
{
    public UnetCall(Tensor sigmas, IReadOnlyList<int> conditioningIndex, ControlResiduals? control,
        IReadOnlyList<ICrossAttentionPatch> crossAttentionPatches)
    {
        Sigmas = sigmas;
        ConditioningIndex = conditioningIndex;
        Control = control;
        CrossAttentionPatches = crossAttentionPatches;
    }

    /// <summary>σ of each batch row, [B].</summary>
    public Tensor Sigmas { get; }

    /// <summary>
    /// For each batch row, the index of the conditioning it belongs to in the denoiser's list (CFG: 0 = positive,
    /// 1 = negative; ComfyUI's cond_or_uncond, one entry per row rather than per chunk).
    /// </summary>
    public IReadOnlyList<int> ConditioningIndex { get; }

    public ControlResiduals? Control { get; }

    /// <summary>Applied in order to every cross-attention layer's output.</summary>
    public IReadOnlyList<ICrossAttentionPatch> CrossAttentionPatches { get; }

    /// <summary>The composed attn2 patch for one site, or null when there is none (the plain path, bit-identical).</summary>
    internal Func<Tensor, Tensor, int, Tensor>? Attn2For(AttentionSite site) =>
        CrossAttentionPatches.Count == 0 ? null : (output, q, heads) =>
        {
            foreach (ICrossAttentionPatch patch in CrossAttentionPatches) output = patch.Apply(output, q, heads, site, this);
            return output;
        };
}
