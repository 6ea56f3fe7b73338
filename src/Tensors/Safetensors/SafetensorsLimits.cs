namespace CharacterGen.Tensors.Safetensors;

/// <summary>
/// Resource caps applied while reading a header, before anything is allocated for it. The defaults
/// follow the reference; a service may lower them (reliability.md §4: header bloat is a CPU/memory DoS).
/// </summary>
public sealed record SafetensorsLimits
{
    /// <summary>The reference's <c>MAX_HEADER_SIZE</c>; no header may be larger, whatever the limits say.</summary>
    public const long ReferenceMaxHeaderBytes = 100_000_000;

    /// <summary>Default header cap: the reference's.</summary>
    public const long DefaultMaxHeaderBytes = ReferenceMaxHeaderBytes;

    /// <summary>
    /// Default tensor-count cap. A full SDXL checkpoint has about 2,500 tensors and a large LyCORIS
    /// file about 10,000, so this leaves a wide margin yet refuses 100k-entry header bloat.
    /// </summary>
    public const int DefaultMaxTensorCount = 65_536;

    public static SafetensorsLimits Default { get; } = new();

    /// <summary>Largest accepted JSON header, in bytes (1 … <see cref="ReferenceMaxHeaderBytes"/>).</summary>
    public long MaxHeaderBytes
    {
        get;
        init => field = value is >= 1 and <= ReferenceMaxHeaderBytes
            ? value
            : throw new ArgumentOutOfRangeException(nameof(MaxHeaderBytes), value, $"must be between 1 and {ReferenceMaxHeaderBytes}");
    } = DefaultMaxHeaderBytes;

    /// <summary>Largest accepted number of tensors (at least 1).</summary>
    public int MaxTensorCount
    {
        get;
        init => field = value >= 1
            ? value
            : throw new ArgumentOutOfRangeException(nameof(MaxTensorCount), value, "must be at least 1");
    } = DefaultMaxTensorCount;
}
