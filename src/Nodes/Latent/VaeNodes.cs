using CharacterGen.Diffusion.Models.Vae;
using CharacterGen.GraphRuntime.Contracts;
using CharacterGen.Nodes.Runtime;
using CharacterGen.Nodes.Values;
using CharacterGen.Tensors;

namespace CharacterGen.Nodes.Latent;

/// <summary>VAEDecode, VAEEncode and VAEEncodeForInpaint.</summary>
internal static class VaeNodes
{
    public static IEnumerable<NodeDefinition> Definitions() => [VaeDecode, VaeEncode, VaeEncodeForInpaint];

    private static NodeDefinition VaeDecode { get; } = new NodeBuilder("VAEDecode")
        .DisplayName("VAE Decode").Category("latent")
        .Description("Decodes latent images back into pixel space images.")
        .Required(InputSpec.Link("samples", IoTypes.Latent) with { Tooltip = "The latent to be decoded." })
        .Required(InputSpec.Link("vae", IoTypes.Vae) with { Tooltip = "The VAE model used for decoding the latent." })
        .Output(IoTypes.Image, tooltip: "The decoded image.")
        .EstimateMemory(m =>
        {
            if (m.Upstream<LatentShape>("samples") is not { } latent) return MemoryEstimate.Unknown;
            long whole = MemoryCosts.VaeDecode(latent);
            long peak = Fits(m.Services, whole) ? whole : MemoryCosts.VaeDecodeTiled(latent);
            return new MemoryEstimate(peak, [new ImageShape(latent.Batch, latent.Height * 8, latent.Width * 8)]);
        })
        .ExecuteTensors((ctx, i) => NodeOutput.Of(Decode(i.Value<VaeValue>("vae"), i.Value<LatentValue>("samples").Samples,
            ctx.GetService<MemoryBudget>())))
        .Build();

    private static NodeDefinition VaeEncode { get; } = new NodeBuilder("VAEEncode")
        .DisplayName("VAE Encode").Category("latent")
        .Required(InputSpec.Link("pixels", IoTypes.Image))
        .Required(InputSpec.Link("vae", IoTypes.Vae))
        .Output(IoTypes.Latent)
        .EstimateMemory(EncodeMemory)
        .ExecuteTensors((ctx, i) => NodeOutput.Of(new LatentValue(Encode(i.Value<VaeValue>("vae"), i.Value<Tensor>("pixels"),
            ctx.GetService<MemoryBudget>()))))
        .Build();

    private static NodeDefinition VaeEncodeForInpaint { get; } = new NodeBuilder("VAEEncodeForInpaint")
        .DisplayName("VAE Encode (for Inpainting)").Category("latent/inpaint")
        .Required(InputSpec.Link("pixels", IoTypes.Image))
        .Required(InputSpec.Link("vae", IoTypes.Vae))
        .Required(InputSpec.Link("mask", IoTypes.Mask))
        .Required(InputSpec.Int("grow_mask_by", 6, 0, 64, 1))
        .Output(IoTypes.Latent)
        .EstimateMemory(EncodeMemory)
        .ExecuteTensors((ctx, i) => NodeOutput.Of(EncodeForInpaint(i.Value<VaeValue>("vae"), i.Value<Tensor>("pixels"),
            i.Value<Tensor>("mask"), i.Int("grow_mask_by"), ctx.GetService<MemoryBudget>())))
        .Build();

    private static bool Fits(IServiceProvider services, long bytes) =>
        services.GetService(typeof(MemoryBudget)) is not MemoryBudget budget || budget.Fits(bytes);

    private static MemoryEstimate EncodeMemory(MemoryEstimateContext m)
    {
        if (m.Upstream<ImageShape>("pixels") is not { } image) return MemoryEstimate.Unknown;
        long whole = MemoryCosts.VaeEncode(image);
        long peak = Fits(m.Services, whole) ? whole : MemoryCosts.VaeEncodeTiled(image);
        return new MemoryEstimate(peak, [new LatentShape(image.Batch, 4, image.Height / 8, image.Width / 8)]);
    }

    /// <summary>
    /// Latent [B, C, h, w] → IMAGE [B, H, W, 3]: clamp((x + 1)/2, 0, 1), float32 on the CPU. Decodes tile by tile when
    /// the whole latent would not fit <paramref name="budget"/>, or when decoding it whole runs out of memory.
    /// </summary>
    public static Tensor Decode(VaeValue vae, Tensor latent, MemoryBudget? budget = null)
    {
        using var scope = Torch.NewScope();
        Tensor z = latent.To(DType.Float32);
        var shape = new LatentShape(z.Size(0), z.Size(1), z.Size(2), z.Size(3));
        Tensor image = WholeOrTiled(budget, MemoryCosts.VaeDecode(shape, vae.DownscaleFactor),
            () => vae.Vae.Decode(z), () => TiledVae.Decode(vae.Vae, z));
        image = ((image.To(Device.Cpu, DType.Float32) + 1.0) / 2.0).Clamp(0, 1);
        return image.Permute(0, 2, 3, 1).Contiguous().MoveToOuterScope();
    }

    /// <summary>
    /// IMAGE [B, H, W, C] → latent [B, C', H/8, W/8] (posterior mean), float32 on the CPU. Sides that are not multiples
    /// of the down-scale factor are cropped evenly, as ComfyUI's vae_encode_crop_pixels.
    /// </summary>
    public static Tensor Encode(VaeValue vae, Tensor pixels, MemoryBudget? budget = null)
    {
        using var scope = Torch.NewScope();
        Tensor cropped = CropToMultiple(pixels, vae.DownscaleFactor);
        Tensor x = cropped.Narrow(3, 0, Math.Min(cropped.Size(3), vae.Vae.Config.InChannels)).Permute(0, 3, 1, 2);
        Tensor input = (x.To(DType.Float32) * 2.0 - 1.0).Contiguous();
        var shape = new ImageShape(input.Size(0), input.Size(2), input.Size(3), input.Size(1));
        Tensor latent = WholeOrTiled(budget, MemoryCosts.VaeEncode(shape),
            () => vae.Vae.Encode(input), () => TiledVae.Encode(vae.Vae, input));
        return latent.To(Device.Cpu, DType.Float32).MoveToOuterScope();
    }

    /// <summary>
    /// ComfyUI VAEEncodeForInpaint: the mask is resized (bilinear) to the image, both are cropped to multiples of 8,
    /// pixels under the rounded mask become 0.5 before encoding, and the noise mask is the rounded mask grown by a
    /// box of <paramref name="growBy"/> (clamped to 1).
    /// </summary>
    public static LatentValue EncodeForInpaint(VaeValue vae, Tensor pixels, Tensor mask, int growBy, MemoryBudget? budget = null)
    {
        using var scope = Torch.NewScope();
        int ds = vae.DownscaleFactor;
        long h = pixels.Size(1), w = pixels.Size(2);
        long cropH = h / ds * ds, cropW = w / ds * ds;
        Tensor m = F.Interpolate(mask.To(DType.Float32).Reshape(-1, 1, mask.Size(-2), mask.Size(-1)), h, w, InterpolationMode.Bilinear);
        Tensor p = pixels.To(DType.Float32);
        if (cropH != h || cropW != w)
        {
            long y0 = h % ds / 2, x0 = w % ds / 2;
            p = p.Narrow(1, y0, cropH).Narrow(2, x0, cropW);
            m = m.Narrow(2, y0, cropH).Narrow(3, x0, cropW);
        }

        Tensor rounded = m.Round();
        Tensor grown = growBy == 0 ? m
            : F.Conv2d(rounded, Torch.Ones([1, 1, growBy, growBy]), padding: (int)Math.Ceiling((growBy - 1) / 2.0)).Clamp(0, 1);

        Tensor keep = (1.0 - rounded).Squeeze(1).Unsqueeze(-1); // [B, H, W, 1]
        Tensor filled = (p - 0.5) * keep + 0.5;
        Tensor latent = Encode(vae, filled, budget);
        Tensor noiseMask = grown.Narrow(2, 0, cropH).Narrow(3, 0, cropW).Round().Contiguous();
        return new LatentValue(latent.MoveToOuterScope(), noiseMask.MoveToOuterScope());
    }

    /// <summary>
    /// ComfyUI's fallback: the whole tensor at once when its estimate fits (or no budget is set), tile by tile when it
    /// does not or when the whole attempt runs out of memory (its temporaries are released before the retry).
    /// </summary>
    private static Tensor WholeOrTiled(MemoryBudget? budget, long wholeBytes, Func<Tensor> whole, Func<Tensor> tiled)
    {
        if (budget is not null && !budget.Fits(wholeBytes)) return tiled();
        try
        {
            using var attempt = Torch.NewScope();
            return whole().MoveToOuterScope();
        }
        catch (Exception e) when (NodeOutOfMemoryException.IsOutOfMemory(e))
        {
            return tiled();
        }
    }

    private static Tensor CropToMultiple(Tensor pixels, int factor)
    {
        Tensor p = pixels;
        for (int d = 1; d <= 2; d++)
        {
            long size = p.Size(d), cropped = size / factor * factor;
            if (cropped != size) p = p.Narrow(d, size % factor / 2, cropped);
        }
        return p;
    }
}
