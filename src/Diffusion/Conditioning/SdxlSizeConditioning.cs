using CharacterGen.Diffusion.Models.Unet;
using CharacterGen.Tensors;

namespace CharacterGen.Diffusion.Conditioning;

/// <summary>
/// SDXL's micro-conditioning on image size and crop (ComfyUI model_base.SDXL.encode_adm): the UNet's ADM vector y is
/// the pooled clip_g output followed by a 256-wide sinusoidal embedding (ComfyUI Timestep(256), LDM timestep_embedding)
/// of each of height, width, crop_h, crop_w, target_height, target_width, in that order: 1280 + 6·256 = 2816.
/// </summary>
public sealed record SdxlSizeConditioning(int Width, int Height, int CropW = 0, int CropH = 0, int TargetWidth = 0, int TargetHeight = 0)
{
    public const int EmbeddingDim = 256;
    public const int SizeFeatures = 6 * EmbeddingDim;

    /// <summary>CLIPTextEncodeSDXL's defaults: 1024×1024, no crop, target 1024×1024.</summary>
    public static SdxlSizeConditioning Default { get; } = new(1024, 1024, 0, 0, 1024, 1024);

    /// <summary>
    /// What a plain CLIPTextEncode conditioning gets at sampling time: the latent's size ×8 as size and target, no crop
    /// (ComfyUI passes width/height from the latent; target defaults to them).
    /// </summary>
    public static SdxlSizeConditioning ForLatent(long latentWidth, long latentHeight) =>
        new((int)latentWidth * 8, (int)latentHeight * 8, 0, 0, (int)latentWidth * 8, (int)latentHeight * 8);

    /// <summary>Target size, falling back to the size when unset (0), as encode_adm's kwargs.get("target_width", width).</summary>
    public int EffectiveTargetWidth => TargetWidth > 0 ? TargetWidth : Width;
    public int EffectiveTargetHeight => TargetHeight > 0 ? TargetHeight : Height;

    /// <summary>The six values in encode_adm's order.</summary>
    public float[] Values() => [Height, Width, CropH, CropW, EffectiveTargetHeight, EffectiveTargetWidth];

    /// <summary>float32 [1536]: the six sinusoidal embeddings, concatenated.</summary>
    public Tensor Embedding()
    {
        using var scope = Torch.NewScope();
        Tensor emb = TimestepEmbedding.Sinusoidal(Torch.FromArray(Values()), EmbeddingDim); // [6, 256]
        return emb.Reshape(SizeFeatures).MoveToOuterScope();
    }

    /// <summary>y = pooled [B, P] ‖ size features (the same for every row) → float32 [B, P + 1536], on pooled's device.</summary>
    public Tensor AdmVector(Tensor pooled)
    {
        if (pooled.Dim != 2) throw new ArgumentException($"pooled must be [B, width], got {pooled}");
        using var scope = Torch.NewScope();
        Tensor sizes = Embedding().To(pooled.Device).Unsqueeze(0).Expand(pooled.Size(0), SizeFeatures);
        return Torch.Cat([pooled.To(DType.Float32), sizes], 1).MoveToOuterScope();
    }
}
