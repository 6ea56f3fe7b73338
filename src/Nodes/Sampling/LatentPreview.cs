using System.IO.Compression;
using System.Text.Json.Nodes;
using CharacterGen.Diffusion.Imaging;
using CharacterGen.Diffusion.Sampling;
using CharacterGen.GraphRuntime.Contracts;
using CharacterGen.Tensors;

namespace CharacterGen.Nodes.Sampling;

/// <summary>
/// Whether and how often samplers attach a preview to their progress events. Register one on the engine to turn
/// previews on; a job's <c>extra_data.preview_method</c> ("none" / "latent2rgb" / "auto") overrides it.
/// </summary>
public sealed record LatentPreviewOptions(bool Enabled = true, int Interval = 1)
{
    public static LatentPreviewOptions Disabled { get; } = new(false);
}

/// <summary>
/// ComfyUI's Latent2RGB previewer for SD1.x/SDXL latents: a fixed affine map from the four latent channels to RGB
/// (latent_formats.SD15/SDXL latent_rgb_factors, SDXL with latent_rgb_factors_bias) of the current x̂₀ (sampler
/// scale), at latent resolution, as PNG bytes.
/// </summary>
internal static class LatentPreview
{
    // R, G, B weights per latent channel.
    private static readonly float[] Sd15Factors =
    [
        0.3512f, 0.2297f, 0.3227f,
        0.3250f, 0.4974f, 0.2350f,
        -0.2829f, 0.1762f, 0.2721f,
        -0.2120f, -0.2616f, -0.7177f,
    ];

    private static readonly float[] SdxlFactors =
    [
        0.3651f, 0.4232f, 0.4341f,
        -0.2533f, -0.0042f, 0.1068f,
        0.1076f, 0.1111f, -0.0362f,
        -0.3165f, -0.2492f, -0.2188f,
    ];

    private static readonly float[] SdxlBias = [0.1084f, -0.0175f, -0.0011f];

    /// <summary>The interval in steps for this job (0 = no previews).</summary>
    public static int IntervalFor(NodeContext ctx)
    {
        string? method = ctx.ExtraData["preview_method"] is JsonValue v && v.TryGetValue(out string? m) ? m : null;
        var options = ctx.GetService<LatentPreviewOptions>() ?? LatentPreviewOptions.Disabled;
        return method switch
        {
            "none" => 0,
            "latent2rgb" or "auto" => Math.Max(1, options.Interval),
            _ => options.Enabled ? Math.Max(1, options.Interval) : 0,
        };
    }

    /// <summary>PNG of the first image of an x̂₀ batch [B, 4, h, w].</summary>
    public static byte[] Png(Tensor denoised, LatentFormat? format = null)
    {
        using var scope = Torch.NewScope();
        bool sdxl = format == LatentFormat.SDXL;
        Tensor factors = Torch.FromArray<float>(sdxl ? SdxlFactors : Sd15Factors, [4, 3]).To(denoised.Device);
        Tensor x0 = denoised.Select(0, 0).To(DType.Float32).Permute(1, 2, 0); // [h, w, 4]
        Tensor rgb = F.Matmul(x0, factors);
        if (sdxl) rgb = rgb + Torch.FromArray<float>(SdxlBias, [3]).To(denoised.Device);
        return PngWriter.Encode(ImageTensors.ToPixels((rgb + 1.0) / 2.0), null, CompressionLevel.Fastest);
    }
}
