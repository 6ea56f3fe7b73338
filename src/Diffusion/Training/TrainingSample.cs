using CharacterGen.Tensors;

namespace CharacterGen.Diffusion.Training;

/// <summary>
/// One cached training example: the VAE latent x₀ [C, h, w] (already scaled by the latent format), the frozen text
/// encoder's context [T, D], and for SDXL the ADM vector [A] (pooled text ‖ size embedding). Owns its tensors.
/// </summary>
public sealed class TrainingSample : IDisposable
{
    public TrainingSample(Tensor latent, Tensor context, Tensor? adm = null)
    {
        if (latent.Dim != 3) throw new ArgumentException($"a training latent is [C, h, w], got {latent}");
        if (context.Dim != 2) throw new ArgumentException($"a training context is [tokens, dim], got {context}");
        if (adm is not null && adm.Dim != 1) throw new ArgumentException($"an ADM vector is [width], got {adm}");
        Latent = latent.DetachFromScope();
        Context = context.DetachFromScope();
        Adm = adm?.DetachFromScope();
    }

    public Tensor Latent { get; }
    public Tensor Context { get; }
    public Tensor? Adm { get; }

    /// <summary>Samples batch together only when shapes agree (an aspect-ratio bucket, and the same prompt length).</summary>
    public string BucketKey => $"{string.Join("x", Latent.Shape)}|{Context.Size(0)}";

    public void Dispose()
    {
        Latent.Dispose();
        Context.Dispose();
        Adm?.Dispose();
    }
}
