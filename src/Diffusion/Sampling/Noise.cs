using CharacterGen.Tensors;

namespace CharacterGen.Diffusion.Sampling;

/// <summary>The initial noise of a sampling run (ComfyUI comfy/sample.py prepare_noise; reference §5).</summary>
public static class Noise
{
    /// <summary>
    /// torch.manual_seed(seed); torch.randn(shape) on the CPU in float32. With <paramref name="batchIndex"/> (a latent
    /// from LatentFromBatch / RepeatLatentBatch) one [1, C, H, W] draw is made per index 0 … max(batchIndex) in
    /// sequence and the listed ones are picked, so image k of a batch can be reproduced on its own.
    /// </summary>
    public static Tensor Prepare(ReadOnlySpan<long> latentShape, ulong seed, IReadOnlyList<long>? batchIndex = null)
    {
        using var generator = new Generator(seed);
        if (batchIndex is null || batchIndex.Count == 0) return Torch.Randn(latentShape, generator);

        if (batchIndex.Any(i => i < 0)) throw new ArgumentOutOfRangeException(nameof(batchIndex), "batch indices must be ≥ 0");
        long[] one = latentShape.ToArray();
        one[0] = 1;
        long max = batchIndex.Max();
        var wanted = new HashSet<long>(batchIndex);
        using var scope = Torch.NewScope();
        var drawn = new Dictionary<long, Tensor>();
        for (long i = 0; i <= max; i++)
        {
            Tensor noise = Torch.Randn(one, generator);
            if (wanted.Contains(i)) drawn[i] = noise;
            else noise.Dispose();
        }
        return Torch.Cat(batchIndex.Select(i => drawn[i]).ToArray()).MoveToOuterScope();
    }

    /// <summary>Zero noise (KSamplerAdvanced add_noise = disable, DisableNoise).</summary>
    public static Tensor Disabled(ReadOnlySpan<long> latentShape) => Torch.Zeros(latentShape);
}
