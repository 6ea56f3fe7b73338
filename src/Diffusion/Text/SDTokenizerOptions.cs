namespace CharacterGen.Diffusion.Text;

/// <summary>How <see cref="SDTokenizer"/> lays prompt tokens into CLIP windows (ComfyUI SDTokenizer's arguments).</summary>
public sealed record SDTokenizerOptions
{
    public const int DefaultMaxLength = 77;
    public const int DefaultMaxWordLength = 8;

    /// <summary>SD1's CLIP-L (and SDXL's clip_l): pad with the end token.</summary>
    public static SDTokenizerOptions ClipL { get; } = new();

    /// <summary>SDXL's clip_g and SD2's OpenCLIP-H: pad with token 0.</summary>
    public static SDTokenizerOptions ClipG { get; } = new() { PadTokenId = 0 };

    /// <summary>Positions per chunk, start and end token included.</summary>
    public int MaxLength { get; init; } = DefaultMaxLength;

    /// <summary>The padding token; null pads with the end token.</summary>
    public int? PadTokenId { get; init; }

    /// <summary>Pad every chunk to <see cref="MaxLength"/> (false leaves chunks as long as their tokens).</summary>
    public bool PadToMaxLength { get; init; } = true;

    /// <summary>A group of tokens (a weighted run, or an embedding) this long or longer may be split across chunks;
    /// a shorter one that does not fit moves whole to the next chunk.</summary>
    public int MaxWordLength { get; init; } = DefaultMaxWordLength;

    /// <summary>Read parentheses as text, not weights.</summary>
    public bool DisableWeights { get; init; }

    internal void Validate()
    {
        if (MaxLength < 3) throw new ArgumentOutOfRangeException(nameof(MaxLength), MaxLength, "must leave room for start, end and one token");
        // A group that may not be split must fit in an empty chunk, or chunking would never end.
        if (MaxWordLength < 1 || MaxWordLength - 1 > MaxLength - 2)
            throw new ArgumentOutOfRangeException(nameof(MaxWordLength), MaxWordLength, $"must be between 1 and {MaxLength - 1}");
    }
}
