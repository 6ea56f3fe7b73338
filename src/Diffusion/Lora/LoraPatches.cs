namespace CharacterGen.Diffusion.Lora;

/// <summary>
/// A LoRA resolved against one model: its patches per network and the file's tensor names that addressed nothing
/// (ComfyUI logs those as "lora key not loaded"). Owns the patches.
/// </summary>
public sealed class LoraPatches(string identity, IReadOnlyList<LoraPatch> patches, IReadOnlyList<string> unmatched) : IDisposable
{
    /// <summary>The LoRA file's identity (path, size, write time).</summary>
    public string Identity { get; } = identity;

    public IReadOnlyList<LoraPatch> Patches { get; } = patches;

    /// <summary>Tensor names of the file that matched no weight, in file order.</summary>
    public IReadOnlyList<string> Unmatched { get; } = unmatched;

    public IEnumerable<LoraPatch> For(LoraTarget target) => Patches.Where(p => p.Target == target);

    /// <summary>A copy holding only the given networks' patches (own handles), e.g. for a MODEL or CLIP value.</summary>
    public LoraPatches Only(params LoraTarget[] targets) =>
        new(Identity, [.. Patches.Where(p => targets.Contains(p.Target)).Select(p => p.Share())], Unmatched);

    public LoraPatches Share() => new(Identity, [.. Patches.Select(p => p.Share())], Unmatched);

    public void Dispose()
    {
        foreach (LoraPatch p in Patches) p.Dispose();
    }
}
