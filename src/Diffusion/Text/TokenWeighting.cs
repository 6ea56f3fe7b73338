using CharacterGen.Tensors;

namespace CharacterGen.Diffusion.Text;

/// <summary>
/// ComfyUI's prompt weighting (<c>ClipTokenWeightEncoder.encode_token_weights</c>), which is not A1111's: each token
/// whose weight w ≠ 1 is moved away from the empty prompt's hidden state at the same position,
/// z = (z − z_empty)·w + z_empty. Tokens with weight 1 are left bit-for-bit as encoded.
/// </summary>
public static class TokenWeighting
{
    /// <summary>Whether ComfyUI would weight this prompt at all (and so also encode the empty prompt).</summary>
    public static bool HasWeights(IEnumerable<TokenChunk> chunks) => chunks.Any(c => c.HasWeights);

    /// <summary>
    /// Weights one encoded chunk. <paramref name="z"/> is [.., L, D] (e.g. [1, 77, 768]); <paramref name="zEmpty"/> the
    /// empty prompt (<see cref="SDTokenizer.EmptyTokens"/>) encoded at the same length, [L, D] or [1, L, D].
    /// Returns a new tensor; the caller owns it (or its scope does).
    /// </summary>
    public static Tensor Apply(Tensor z, Tensor zEmpty, IReadOnlyList<double> weights)
    {
        long length = z.Size(-2);
        if (weights.Count != length)
            throw new ArgumentException($"{weights.Count} weights for {length} token positions", nameof(weights));

        Tensor result;
        using (Torch.NewScope())
        {
            var w = Torch.FromArray(weights.Select(x => (float)x).ToArray(), [length, 1]).To(z.Device, z.DType);
            Tensor weighted = (z - zEmpty) * w + zEmpty;
            result = w.Ne(1.0).Where(weighted, z).MoveToOuterScope();
        }
        return result;
    }

    public static Tensor Apply(Tensor z, Tensor zEmpty, TokenChunk chunk) => Apply(z, zEmpty, chunk.Weights());
}
