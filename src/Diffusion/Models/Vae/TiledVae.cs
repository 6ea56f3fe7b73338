using CharacterGen.Tensors;

namespace CharacterGen.Diffusion.Models.Vae;

/// <summary>
/// VAE decoding and encoding one overlapping tile at a time, for images whose activations would not fit at once
/// (ComfyUI falls back the same way when a regular decode runs out of memory). Tiles overlap, and each is weighted by
/// a ramp that rises across the overlap on sides shared with a neighbour, so seams blend; the weights are normalised
/// exactly. Peak memory is one tile's activations plus the output. An interrupt is checked between tiles.
/// </summary>
public static class TiledVae
{
    /// <summary>Decode tiles in latent pixels (64 → 512 px) and their overlap.</summary>
    public const int DecodeTile = 64, DecodeOverlap = 16;
    /// <summary>Encode tiles in image pixels and their overlap.</summary>
    public const int EncodeTile = 512, EncodeOverlap = 64;

    /// <summary>As <see cref="AutoencoderKL.Decode"/>, tile by tile.</summary>
    public static Tensor Decode(AutoencoderKL vae, Tensor latent, int tile = DecodeTile, int overlap = DecodeOverlap)
    {
        int f = vae.Config.DownscaleFactor;
        return Map(latent, tile, overlap, f, 1, vae.Config.OutCh, vae.Decode);
    }

    /// <summary>As <see cref="AutoencoderKL.Encode"/>, tile by tile; sides must be multiples of the down-scale factor.</summary>
    public static Tensor Encode(AutoencoderKL vae, Tensor image, int tile = EncodeTile, int overlap = EncodeOverlap)
    {
        int f = vae.Config.DownscaleFactor;
        return Map(image, tile / f * f, overlap / f * f, 1, f, vae.Config.EmbedDim, vae.Encode);
    }

    /// <summary>
    /// Applies <paramref name="model"/> to overlapping tiles of x [B, C, H, W] whose outputs are <paramref name="up"/>/
    /// <paramref name="down"/> times their size, and blends them into [B, channels, H·up/down, W·up/down].
    /// </summary>
    internal static Tensor Map(Tensor x, int tile, int overlap, int up, int down, int channels, Func<Tensor, Tensor> model)
    {
        if (tile <= overlap || overlap < 0) throw new ArgumentException($"tile {tile} must be larger than overlap {overlap}");
        long b = x.Size(0), h = x.Size(2), w = x.Size(3);
        long outH = h * up / down, outW = w * up / down;
        using var scope = Torch.NewScope();
        Tensor output = Torch.Zeros([b, channels, outH, outW], x.DType);
        Tensor weight = Torch.Zeros([1, 1, outH, outW], x.DType);
        foreach (long y0 in Starts(h, tile, overlap))
        foreach (long x0 in Starts(w, tile, overlap))
        {
            Interrupts.ThrowIfRequested();
            using var tileScope = Torch.NewScope();
            long th = Math.Min(tile, h - y0), tw = Math.Min(tile, w - x0);
            Tensor part = model(x.Narrow(2, y0, th).Narrow(3, x0, tw).Contiguous()).To(Device.Cpu, x.DType);
            long oy = y0 * up / down, ox = x0 * up / down, oh = part.Size(2), ow = part.Size(3);
            long ramp = (long)overlap * up / down;
            Tensor mask = Ramp(oy, oh, outH, ramp, x.DType).Reshape(1, 1, oh, 1) * Ramp(ox, ow, outW, ramp, x.DType).Reshape(1, 1, 1, ow);
            output.Narrow(2, oy, oh).Narrow(3, ox, ow).Add_(part * mask);
            weight.Narrow(2, oy, oh).Narrow(3, ox, ow).Add_(mask);
        }
        return (output / weight).MoveToOuterScope();
    }

    /// <summary>Tile origins along one side: a stride of tile − overlap, the last tile flush with the end.</summary>
    internal static IEnumerable<long> Starts(long size, int tile, int overlap)
    {
        if (size <= tile) { yield return 0; yield break; }
        long stride = tile - overlap;
        for (long s = 0; ; s += stride)
        {
            if (s + tile >= size) { yield return size - tile; yield break; }
            yield return s;
        }
    }

    /// <summary>1 inside, rising linearly over <paramref name="ramp"/> samples on a side that has a neighbour.</summary>
    private static Tensor Ramp(long start, long length, long total, long ramp, DType dtype)
    {
        Tensor m = Torch.Ones([length], dtype);
        if (ramp <= 0) return m;
        if (start > 0) m = m.Minimum(Torch.Arange(1, length + 1, 1, dtype) / (ramp + 1.0));
        if (start + length < total) m = m.Minimum(Torch.Arange(length, 0, -1, dtype) / (ramp + 1.0));
        return m;
    }
}
