using CharacterGen.Tensors;

namespace CharacterGen.Diffusion.Models.T5;

/// <summary>
/// T5's bidirectional relative-position buckets (HF T5Attention._relative_position_bucket): half the buckets per
/// direction (keys after the query add half), distances below a quarter of the buckets exact, larger ones on a log
/// scale up to the maximum distance, where they saturate.
/// </summary>
public static class T5RelativePosition
{
    /// <summary>The bucket of rel = key position − query position.</summary>
    public static int Bucket(int relative, int buckets = 32, int maxDistance = 128)
    {
        int half = buckets / 2;
        int bucket = relative > 0 ? half : 0;
        int distance = Math.Abs(relative);
        int maxExact = half / 2;
        if (distance < maxExact) return bucket + distance;
        // float32 as torch evaluates it: log(d / maxExact) / log(maxDistance / maxExact) · (half − maxExact), truncated
        float scaled = MathF.Log(distance / (float)maxExact) / (float)Math.Log(maxDistance / (double)maxExact) * (half - maxExact);
        return bucket + Math.Min(maxExact + (int)scaled, half - 1);
    }

    /// <summary>int64 [n, n] bucket ids for a sequence of n tokens (row: query, column: key).</summary>
    public static Tensor Buckets(int n, int buckets, int maxDistance, Device device)
    {
        var ids = new long[n * n];
        for (int q = 0; q < n; q++)
            for (int k = 0; k < n; k++) ids[q * n + k] = Bucket(k - q, buckets, maxDistance);
        return Torch.FromArray<long>(ids, [n, n], device);
    }
}
