using CharacterGen.Tensors;

namespace CharacterGen.Nodes.Values;

/// <summary>
/// ComfyUI's LATENT dict: <c>samples</c> [B, C, h, w] (VAE scale, float32, CPU), an optional <c>noise_mask</c>
/// (1 = regenerate) and an optional <c>batch_index</c> (which noise draws of a batch the rows are).
/// </summary>
public sealed class LatentValue(Tensor samples, Tensor? noiseMask = null, IReadOnlyList<long>? batchIndex = null) : ITensorOwner
{
    public Tensor Samples { get; } = samples;
    public Tensor? NoiseMask { get; } = noiseMask;
    public IReadOnlyList<long>? BatchIndex { get; } = batchIndex;

    /// <summary>ComfyUI's <c>s = samples.copy(); s["samples"] = …</c>: new samples, the other keys kept (aliased).</summary>
    public LatentValue WithSamples(Tensor samples) => new(samples, NoiseMask?.Alias(), BatchIndex);

    /// <summary>The same samples (aliased) with another noise mask (owned by the new latent).</summary>
    public LatentValue WithNoiseMask(Tensor? noiseMask) => new(Samples.Alias(), noiseMask, BatchIndex);

    public IEnumerable<Tensor> OwnedTensors => NoiseMask is null ? [Samples] : [Samples, NoiseMask];

    public void Dispose()
    {
        Samples.Dispose();
        NoiseMask?.Dispose();
    }

    public override string ToString() => $"Latent({string.Join("x", Samples.Shape)}{(NoiseMask is null ? "" : ", noise_mask")})";
}
