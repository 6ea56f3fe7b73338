using CharacterGen.Diffusion.Checkpoints;
using CharacterGen.Diffusion.Lora;
using CharacterGen.Diffusion.Models.Clip;
using CharacterGen.Diffusion.Text;
using CharacterGen.Nodes.ModelCaching;

namespace CharacterGen.Nodes.Values;

/// <summary>
/// ComfyUI's CLIP: a non-owning handle to a cached checkpoint's text encoder, its tokenizer (found when first needed,
/// so a workflow that never encodes text does not need the tokenizer files), the layer CLIPSetLastLayer chose and the
/// textual-inversion embeddings, and the LoRA stack this handle wants on the shared weights (applied on the tensor
/// worker right before encoding, <see cref="PatchedModel"/>).
/// </summary>
public sealed class ClipValue : IDisposable
{
    private readonly ModelLease<StableDiffusionCheckpoint> _lease;
    private readonly Lazy<ClipTokenizer> _tokenizer;

    public ClipValue(ModelLease<StableDiffusionCheckpoint> lease, Lazy<ClipTokenizer> tokenizer, int layer,
        EmbeddingFolder? embeddings = null, IReadOnlyList<WeightedLora>? loras = null)
    {
        _lease = lease;
        Loras = loras ?? [];
        _tokenizer = tokenizer;
        Layer = layer;
        Embeddings = embeddings;
    }

    public ClipTextModel Model => _lease.Value.Clip
        ?? throw new InvalidOperationException($"'{Path.GetFileName(_lease.Path)}' has no text encoder");

    /// <summary>The LoRA stack (CLIP and clip_g patches only), applied in order; owned by this value.</summary>
    public IReadOnlyList<WeightedLora> Loras { get; }

    /// <summary>
    /// The shared text encoder with exactly this value's LoRA stack applied (SDXL: clip_g too, so both encoders of one
    /// prompt see the same stack); call on the tensor worker.
    /// </summary>
    public ClipTextModel PatchedModel()
    {
        ClipTextModel model = Model;
        _lease.Value.ClipPatcher.Apply(Loras);
        if (_lease.Value.ClipG is not null) _lease.Value.ClipGPatcher.Apply(Loras);
        return model;
    }

    /// <summary>A new handle to the same weights with one more LoRA on top of this one's stack.</summary>
    public ClipValue WithLora(LoraPatches clipPatches, double strength) =>
        new(_lease.Share(), _tokenizer, Layer, Embeddings, [.. ShareLoras(), new WeightedLora(clipPatches, strength)]);

    /// <summary>SDXL's second encoder (OpenCLIP bigG, clip_g); null for SD1/SD2.</summary>
    public ClipTextModel? ModelG => _lease.Value.ClipG;

    /// <summary>Whether the chosen layer goes through final_layer_norm (SD1/SD2 yes; SDXL no, ComfyUI sdxl_clip).</summary>
    public bool NormalizeHidden => _lease.Value.Config.NormalizeClipHidden;

    public ClipTokenizer Tokenizer => _tokenizer.Value;

    /// <summary>CLIPSetLastLayer's value: −1 the last layer, −2 the penultimate, ….</summary>
    public int Layer { get; }

    public EmbeddingFolder? Embeddings { get; }

    /// <summary>
    /// SD1's CLIP-L (and SDXL's clip_l) pads with the end token; SD2's OpenCLIP-H with 0 (ComfyUI sd2_clip). SDXL's clip_g
    /// uses <see cref="SDTokenizerOptions.ClipG"/>.
    /// </summary>
    public SDTokenizerOptions TokenizerOptions =>
        _lease.Value.Config.Family == "sd2" ? SDTokenizerOptions.ClipG : SDTokenizerOptions.ClipL;

    /// <summary>Another handle to the same text encoder, reading another layer.</summary>
    public ClipValue WithLayer(int layer) => new(_lease.Share(), _tokenizer, layer, Embeddings, ShareLoras());

    /// <summary>Another handle to the same encoder, layer and LoRA stack.</summary>
    public ClipValue Share() => new(_lease.Share(), _tokenizer, Layer, Embeddings, ShareLoras());

    private WeightedLora[] ShareLoras() => [.. Loras.Select(l => l with { Lora = l.Lora.Share() })];

    public void Dispose()
    {
        _lease.Dispose();
        foreach (WeightedLora l in Loras) l.Lora.Dispose();
    }

    public override string ToString() => $"Clip({Path.GetFileName(_lease.Path)}, layer {Layer})";
}
