namespace CharacterGen.Diffusion.Models.Flux;

/// <summary>
/// The shape of a FLUX.1 transformer (BFL FluxParams). FLUX.1-dev and schnell: 16 latent channels (64 per 2×2
/// patch), hidden 3072 in 24 heads of 128, 19 double-stream and 38 single-stream blocks, MLP ratio 4, T5 context 4096,
/// CLIP-L pooled vector 768, RoPE axes (16, 56, 56) with θ 10000; dev adds the guidance embedding.
/// </summary>
public sealed record FluxConfig
{
    public int InChannels { get; init; } = 16;
    public int Hidden { get; init; } = 3072;
    public int Heads { get; init; } = 24;
    public int DoubleBlocks { get; init; } = 19;
    public int SingleBlocks { get; init; } = 38;
    public int MlpHidden { get; init; } = 12288;
    public int ContextDim { get; init; } = 4096;
    public int VecDim { get; init; } = 768;
    public int[] AxesDim { get; init; } = [16, 56, 56];
    public double Theta { get; init; } = 10000;
    public bool GuidanceEmbed { get; init; } = true;
    public bool QkvBias { get; init; } = true;

    /// <summary>The width of the sinusoidal time and guidance features.</summary>
    public const int TimeFeatures = 256;

    public int HeadDim => Hidden / Heads;

    /// <summary>Channels of one 2×2 patch token (img_in's input, final_layer's output).</summary>
    public int PatchChannels => InChannels * 4;

    public static FluxConfig Dev { get; } = new();

    public static FluxConfig Schnell { get; } = new() { GuidanceEmbed = false };

    /// <summary>
    /// Reads the configuration from tensor names and shapes under <paramref name="prefix"/> (ComfyUI
    /// model_detection for "flux"): widths from img_in/txt_in/vector_in, depths by counting blocks, the MLP width from
    /// img_mlp.0, head width from the QK-norm scale (heads = hidden / head width), dev vs schnell by guidance_in.
    /// RoPE axes are not in the weights: the real split is kept when the head width is 128, otherwise the head is split
    /// in the same 1 : 3.5 : 3.5 proportion (tiny test models).
    /// </summary>
    public static FluxConfig Detect(IReadOnlyDictionary<string, long[]> shapes, string prefix = "")
    {
        long[] Shape(string key) => shapes.TryGetValue(prefix + key, out long[]? s) ? s
            : throw new InvalidDataException($"FLUX weight '{prefix + key}' is missing");
        int Count(string block)
        {
            int n = 0;
            while (shapes.Keys.Any(k => k.StartsWith($"{prefix}{block}.{n}.", StringComparison.Ordinal))) n++;
            return n;
        }

        long[] imgIn = Shape("img_in.weight");
        int hidden = (int)imgIn[0];
        if (imgIn[1] % 4 != 0) throw new InvalidDataException($"FLUX img_in takes {imgIn[1]} channels, not a multiple of 4");
        int headDim = (int)Shape("double_blocks.0.img_attn.norm.key_norm.scale")[0];
        if (headDim <= 0 || hidden % headDim != 0)
            throw new InvalidDataException($"FLUX head width {headDim} does not divide the hidden width {hidden}");
        return new FluxConfig
        {
            InChannels = (int)(imgIn[1] / 4),
            Hidden = hidden,
            Heads = hidden / headDim,
            DoubleBlocks = Count("double_blocks"),
            SingleBlocks = Count("single_blocks"),
            MlpHidden = (int)Shape("double_blocks.0.img_mlp.0.weight")[0],
            ContextDim = (int)Shape("txt_in.weight")[1],
            VecDim = (int)Shape("vector_in.in_layer.weight")[1],
            AxesDim = AxesFor(headDim),
            GuidanceEmbed = shapes.ContainsKey(prefix + "guidance_in.in_layer.weight"),
            QkvBias = shapes.ContainsKey(prefix + "double_blocks.0.img_attn.qkv.bias"),
        };
    }

    /// <summary>(16, 56, 56) for 128-wide heads; smaller heads keep the proportion with even axis widths.</summary>
    public static int[] AxesFor(int headDim)
    {
        if (headDim == 128) return [16, 56, 56];
        if (headDim % 16 != 0) throw new InvalidDataException($"FLUX head width {headDim} is not a multiple of 16");
        int first = headDim / 8, rest = (headDim - first) / 2;
        return [first, rest, rest];
    }
}
