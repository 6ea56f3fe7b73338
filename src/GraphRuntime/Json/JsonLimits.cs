namespace CharacterGen.GraphRuntime.Json;

/// <summary>Limits applied to every workflow JSON before anything else looks at it.</summary>
public sealed record JsonLimits
{
    public const int DefaultMaxDepth = 64;
    public const long DefaultMaxBytes = 16 * 1024 * 1024;

    public int MaxDepth { get; init; } = DefaultMaxDepth;
    public long MaxBytes { get; init; } = DefaultMaxBytes;

    public static JsonLimits Default { get; } = new();

    public void Validate()
    {
        if (MaxDepth is < 1 or > 1024) throw new ArgumentOutOfRangeException(nameof(MaxDepth), MaxDepth, "must be 1..1024");
        if (MaxBytes < 2) throw new ArgumentOutOfRangeException(nameof(MaxBytes), MaxBytes, "must be at least 2");
    }
}
