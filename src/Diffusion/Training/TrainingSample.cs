using CharacterGen.Tensors;

namespace CharacterGen.Diffusion.Training;

/// <summary>
/// One cached training example: the VAE latent x₀ [C, h, w] (already scaled by the latent format), the frozen text
/// encoder's context [T, D], and for SDXL the ADM vector [A] (pooled text ‖ size embedding). With text-encoder
/// training the context is computed each step from <see cref="Tokens"/> [T] (int64 ids) instead. Owns its tensors.
/// </summary>
public sealed class TrainingSample : IDisposable
{
    public TrainingSample(Tensor latent, Tensor context, Tensor? adm = null, Tensor? tokens = null)
    {
        if (tokens is not null && (tokens.Dim != 1 || tokens.Size(0) != context.Size(0)))
            throw new ArgumentException($"the token ids are [{context.Size(0)}] like the context's rows, got {tokens}");
        if (latent.Dim != 3) throw new ArgumentException($"a training latent is [C, h, w], got {latent}");
        if (context.Dim != 2) throw new ArgumentException($"a training context is [tokens, dim], got {context}");
        if (adm is not null && adm.Dim != 1) throw new ArgumentException($"an ADM vector is [width], got {adm}");
        Latent = latent.DetachFromScope();
        Context = context.DetachFromScope();
        Adm = adm?.DetachFromScope();
        Tokens = tokens?.DetachFromScope();
    }

    public Tensor Latent { get; }
    public Tensor Context { get; }
    public Tensor? Adm { get; }

    /// <summary>The prompt's token ids (one 77-token chunk), needed only to train the text encoder.</summary>
    public Tensor? Tokens { get; }

    /// <summary>Samples batch together only when shapes agree (an aspect-ratio bucket, and the same prompt length).</summary>
    public string BucketKey => $"{string.Join("x", Latent.Shape)}|{Context.Size(0)}";

    public void Dispose()
    {
        Latent.Dispose();
        Context.Dispose();
        Adm?.Dispose();
        Tokens?.Dispose();
    }
}
