using CharacterGen.GraphRuntime.Contracts;

namespace CharacterGen.Nodes.Runtime;

/// <summary>A latent batch's shape as the memory hooks pass it downstream: [batch, channels, height, width] in latent pixels.</summary>
public sealed record LatentShape(long Batch, long Channels, long Height, long Width)
{
    public long Pixels => Height * Width;
    public long Bytes => Batch * Channels * Pixels * MemoryCosts.FloatBytes;
}

/// <summary>An IMAGE batch's shape as the memory hooks pass it downstream: [batch, height, width, channels].</summary>
public sealed record ImageShape(long Batch, long Height, long Width, long Channels = 3)
{
    public long Pixels => Height * Width;
    public long Bytes => Batch * Pixels * Channels * MemoryCosts.FloatBytes;
}

/// <summary>A MASK batch's shape as the memory hooks pass it downstream: [batch, height, width].</summary>
public sealed record MaskShape(long Batch, long Height, long Width)
{
    public long Bytes => Batch * Height * Width * MemoryCosts.FloatBytes;
}

/// <summary>
/// Peak-memory estimates of the heavy operations, per pixel, in float32 (half precision on a GPU needs about half).
/// Derived from the SD1.x/SDXL architectures rather than measured per machine, and deliberately on the high side:
/// the point is to refuse requests that cannot fit (a 16384² latent), not to pack the machine to the last byte.
/// </summary>
public static class MemoryCosts
{
    public const long FloatBytes = 4;

    /// <summary>
    /// UNet forward, bytes per latent pixel per batch row. SD1.x's first level runs 320 channels with attention at
    /// full latent resolution: the skip connections (~1,600 floats a pixel over all levels), a GEGLU feed-forward
    /// (2,560 + 2 × 1,280) and the attention projections come to ~7,500 floats a pixel. SDXL has no attention on its
    /// first level and is cheaper per pixel, so the SD1.x figure bounds both.
    /// </summary>
    public const long UnetBytesPerLatentPixel = 7_500 * FloatBytes;

    /// <summary>The attention score matrix is computed in chunks of at most this many bytes (64 Mi floats).</summary>
    public const long AttentionChunkBytes = (64L << 20) * FloatBytes;

    /// <summary>
    /// VAE decoder, bytes per output image pixel: its last level holds 256- and 128-channel activations at full
    /// resolution (input, group norm, SiLU, convolution, upsampled copy: ~1,100 floats a pixel), doubled for libtorch's
    /// temporaries.
    /// </summary>
    public const long VaeDecodeBytesPerPixel = 2_200 * FloatBytes;

    /// <summary>VAE encoder, bytes per input image pixel (128 channels at full resolution, same reasoning).</summary>
    public const long VaeEncodeBytesPerPixel = 1_800 * FloatBytes;

    /// <summary>Classifier-free guidance runs the conditional and unconditional rows together.</summary>
    public const long CfgRows = 2;

    /// <summary>The sampler: UNet activations for the guided batch, plus a handful of latent-sized buffers.</summary>
    public static long Sampling(LatentShape latent) =>
        latent.Batch * CfgRows * latent.Pixels * UnetBytesPerLatentPixel + AttentionChunkBytes + 8 * latent.Bytes;

    /// <summary>Decoding a whole latent at once: activations plus the output image.</summary>
    public static long VaeDecode(LatentShape latent, int factor = 8) =>
        latent.Batch * latent.Pixels * factor * factor * VaeDecodeBytesPerPixel + AttentionChunkBytes;

    /// <summary>Decoding one tile at a time (the fallback): a tile's activations plus the output and its weights.</summary>
    public static long VaeDecodeTiled(LatentShape latent, int factor = 8)
    {
        long tile = Diffusion.Models.Vae.TiledVae.DecodeTile;
        var oneTile = latent with { Height = Math.Min(tile, latent.Height), Width = Math.Min(tile, latent.Width) };
        var output = new ImageShape(latent.Batch, latent.Height * factor, latent.Width * factor);
        return VaeDecode(oneTile, factor) + 3 * output.Bytes;
    }

    public static long VaeEncode(ImageShape image) =>
        image.Batch * image.Pixels * VaeEncodeBytesPerPixel + AttentionChunkBytes;

    public static long VaeEncodeTiled(ImageShape image)
    {
        long tile = Diffusion.Models.Vae.TiledVae.EncodeTile;
        var oneTile = image with { Height = Math.Min(tile, image.Height), Width = Math.Min(tile, image.Width) };
        return VaeEncode(oneTile) + 2 * image.Bytes;
    }
}
