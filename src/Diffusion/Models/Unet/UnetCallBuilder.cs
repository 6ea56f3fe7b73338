using CharacterGen.Diffusion.Conditioning;
using CharacterGen.Tensors;

namespace CharacterGen.Diffusion.Models.Unet;

/// <summary>
/// One batched UNet call as the denoiser is about to make it: the scaled input, timesteps, context and ADM vector the
/// UNet gets, σ per row, and the conditioning entries the rows came from (one entry per chunk of
/// <see cref="ChunkRows"/> rows, in batch order).
/// </summary>
public sealed record UnetBatch(Tensor Input, Tensor Timesteps, Tensor Context, Tensor? Y, Tensor Sigmas,
    IReadOnlyList<ConditioningEntry> Entries, IReadOnlyList<int> ConditioningIndexOfEntry, long ChunkRows);

/// <summary>
/// Something that adds to a UNet call: a ControlNet (residuals from the entries' control chain) or a model's attention
/// patches (IP-Adapter). Contributors are asked in order for every batched call.
/// </summary>
public interface IUnetCallContributor
{
    void Contribute(UnetBatch batch, UnetCallBuilder call);
}

/// <summary>Collects contributions for one call: control residuals are summed index by index, patches kept in order.</summary>
public sealed class UnetCallBuilder
{
    private readonly List<ICrossAttentionPatch> _patches = [];
    private List<Tensor?>? _skips;
    private Tensor? _middle;

    public void AddControl(ControlResiduals residuals)
    {
        _skips ??= [];
        for (int i = 0; i < residuals.Skips.Count; i++)
        {
            if (i == _skips.Count) _skips.Add(null);
            if (residuals.Skips[i] is { } r) _skips[i] = _skips[i] is { } s ? s + r : r;
        }
        if (residuals.Middle is { } m) _middle = _middle is null ? m : _middle + m;
    }

    public void AddCrossAttentionPatch(ICrossAttentionPatch patch) => _patches.Add(patch);

    /// <summary>The call, or null when nothing was contributed (the UNet then runs exactly as without extras).</summary>
    public UnetCall? Build(UnetBatch batch)
    {
        if (_skips is null && _middle is null && _patches.Count == 0) return null;
        var rows = new List<int>();
        foreach (int index in batch.ConditioningIndexOfEntry)
            for (long r = 0; r < batch.ChunkRows; r++) rows.Add(index);
        ControlResiduals? control = _skips is null && _middle is null ? null : new ControlResiduals(_skips ?? [], _middle);
        return new UnetCall(batch.Sigmas, rows, control, [.. _patches]);
    }
}
