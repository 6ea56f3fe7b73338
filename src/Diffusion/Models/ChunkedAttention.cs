using CharacterGen.Tensors;

namespace CharacterGen.Diffusion.Models;

/// <summary>
/// softmax(QKᵀ/√d)V over [B, H, L, d] with the queries split into chunks when the score matrix would be large, and an
/// interrupt check between chunks: at 3072² one attention call of the first UNet level takes seconds to minutes on a
/// CPU, too long to wait for a cancel. The threshold equals the native kernel's own chunking (64 Mi score elements),
/// so on libtorch 1.13 the arithmetic is unchanged; fused kernels (2.x) compute each chunk exactly as the whole.
/// </summary>
public static class ChunkedAttention
{
    public const long MaxScoreElements = 64L << 20;

    public static Tensor Compute(Tensor q, Tensor k, Tensor v)
    {
        Interrupts.ThrowIfRequested();
        long lq = q.Size(-2), lk = k.Size(-2);
        long rows = q.NumElements / Math.Max(1, lq * q.Size(-1)); // batch × heads
        long perQuery = Math.Max(1, rows * lk);
        if (perQuery * lq <= MaxScoreElements || lq <= 1) return F.ScaledDotProductAttention(q, k, v);

        long chunk = Math.Max(1, MaxScoreElements / perQuery);
        using var scope = Torch.NewScope();
        var parts = new List<Tensor>();
        for (long start = 0; start < lq; start += chunk)
        {
            Interrupts.ThrowIfRequested();
            parts.Add(F.ScaledDotProductAttention(q.Narrow(-2, start, Math.Min(chunk, lq - start)), k, v));
        }
        return Torch.Cat([.. parts], -2).MoveToOuterScope();
    }
}
