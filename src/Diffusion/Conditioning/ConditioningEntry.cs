using CharacterGen.Tensors;

namespace CharacterGen.Diffusion.Conditioning;

/// <summary>
/// ConditioningSetArea's region in latent cells (ComfyUI's <c>area = (h // 8, w // 8, y // 8, x // 8)</c>).
/// </summary>
public sealed record ConditioningArea(long Height, long Width, long Y, long X);

/// <summary>
/// One <c>[tensor, dict]</c> pair of a CONDITIONING list: the token embeddings [B, T, D], the pooled output, and the
/// dict keys the denoiser reads (area, strength; SDXL's width/height/crop/target as <see cref="Size"/>, null = the
/// latent's size ×8 at sampling time). Build copies with <see cref="Alias"/> so handles are never shared.
/// </summary>
public sealed record ConditioningEntry(Tensor Cond, Tensor? Pooled, ConditioningArea? Area = null, double Strength = 1.0,
    SdxlSizeConditioning? Size = null)
{
    /// <summary>The same entry holding new handles to the same storage.</summary>
    public ConditioningEntry Alias() => this with { Cond = Cond.Alias(), Pooled = Pooled?.Alias() };

    /// <summary>Another cond tensor (owned by the new entry), the dict copied with an aliased pooled output.</summary>
    public ConditioningEntry WithCond(Tensor cond) => this with { Cond = cond, Pooled = Pooled?.Alias() };
}
