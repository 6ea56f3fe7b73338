namespace CharacterGen.Diffusion.Training;

/// <summary>
/// The order batches are drawn in, a pure function of the seed and the epoch, so a resumed run needs only its position
/// (epoch, batch index). Each epoch shuffles the samples, forms batches within each bucket (same latent size and
/// prompt length, kohya's BucketManager idea), and shuffles the batches.
/// </summary>
public sealed class TrainingDataOrder
{
    private readonly string[] _bucketKeys;
    private readonly int _batchSize;
    private readonly ulong _seed;

    public TrainingDataOrder(IReadOnlyList<string> bucketKeys, int batchSize, ulong seed)
    {
        if (bucketKeys.Count == 0) throw new ArgumentException("the training dataset is empty");
        _bucketKeys = [.. bucketKeys];
        _batchSize = batchSize;
        _seed = seed;
    }

    public IReadOnlyList<int[]> Batches(int epoch)
    {
        // System.Random with a seed is a fixed algorithm across .NET versions (the legacy subtractive generator).
        var random = new Random(unchecked((int)(_seed * 0x9E3779B97F4A7C15UL >> 33) ^ epoch * 7919));
        int[] order = Enumerable.Range(0, _bucketKeys.Length).ToArray();
        random.Shuffle(order);
        var batches = order.GroupBy(i => _bucketKeys[i], StringComparer.Ordinal)
            .SelectMany(g => g.Chunk(_batchSize))
            .ToArray();
        random.Shuffle(batches);
        return batches;
    }
}
