using CharacterGen.Diffusion.Models.ControlNet;
using CharacterGen.Tensors;

namespace CharacterGen.Diffusion.Conditioning;

/// <summary>
/// ConditioningSetArea's region in latent cells (ComfyUI's <c>area = (h // 8, w // 8, y // 8, x // 8)</c>).
/// </summary>
public sealed record ConditioningArea(long Height, long Width, long Y, long X);

/// <summary>
/// One <c>[tensor, dict]</c> pair of a CONDITIONING list: the token embeddings [B, T, D], the pooled output, and the
/// dict keys the denoiser reads (area, strength; SDXL's width/height/crop/target as <see cref="Size"/>, null = the
/// latent's size ×8 at sampling time), the ControlNet chain (<c>control</c>) and <c>control_apply_to_uncond</c>. Build
/// copies with <see cref="Alias"/> so handles are never shared; the holder of an entry disposes its tensors and releases
/// its <see cref="Control"/> reference.
/// </summary>
public sealed record ConditioningEntry(Tensor Cond, Tensor? Pooled, ConditioningArea? Area = null, double Strength = 1.0,
    SdxlSizeConditioning? Size = null, ControlChain? Control = null, bool ControlApplyToUncond = false)
{
    /// <summary>The same entry holding new handles to the same storage (and another reference to its control chain).</summary>
    public ConditioningEntry Alias() => this with { Cond = Cond.Alias(), Pooled = Pooled?.Alias(), Control = Control?.Share() };

    /// <summary>Another cond tensor (owned by the new entry), the dict copied with an aliased pooled output.</summary>
    public ConditioningEntry WithCond(Tensor cond) => this with { Cond = cond, Pooled = Pooled?.Alias(), Control = Control?.Share() };

    /// <summary>New handles to the same tensors with another control chain (a reference the new entry owns).</summary>
    public ConditioningEntry WithControl(ControlChain control, bool applyToUncond) =>
        this with { Cond = Cond.Alias(), Pooled = Pooled?.Alias(), Control = control, ControlApplyToUncond = applyToUncond };
}
