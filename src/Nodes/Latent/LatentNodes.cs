using CharacterGen.GraphRuntime.Contracts;
using CharacterGen.Diffusion.Imaging;
using CharacterGen.Nodes.Runtime;
using CharacterGen.Nodes.Values;
using CharacterGen.Tensors;

namespace CharacterGen.Nodes.Latent;

/// <summary>EmptyLatentImage, LatentUpscale, LatentUpscaleBy and SetLatentNoiseMask.</summary>
internal static class LatentNodes
{
    private const long MaxResolution = 16384;

    public static IEnumerable<NodeDefinition> Definitions() =>
        [EmptyLatentImage, LatentUpscale, LatentUpscaleBy, SetLatentNoiseMask];

    private static NodeDefinition EmptyLatentImage { get; } = new NodeBuilder("EmptyLatentImage")
        .DisplayName("Empty Latent Image").Category("latent")
        .Description("Create a new batch of empty latent images to be denoised via sampling.")
        .Required(InputSpec.Int("width", 512, 16, MaxResolution, 8) with { Tooltip = "The width of the latent images in pixels." })
        .Required(InputSpec.Int("height", 512, 16, MaxResolution, 8) with { Tooltip = "The height of the latent images in pixels." })
        .Required(InputSpec.Int("batch_size", 1, 1, 4096) with { Tooltip = "The number of latent images in the batch." })
        .Output(IoTypes.Latent, tooltip: "The empty latent image batch.")
        .EstimateCost(l => l.Get<long>("width") * (double)l.Get<long>("height") * l.Get<long>("batch_size"))
        .EstimateMemory(m =>
        {
            var shape = new LatentShape(m.Literals.Get<long>("batch_size"), 4, m.Literals.Get<long>("height") / 8, m.Literals.Get<long>("width") / 8);
            return new MemoryEstimate(shape.Bytes, [shape]);
        })
        .ExecuteTensors((_, i) => NodeOutput.Of(Empty(i.Get<long>("width"), i.Get<long>("height"), i.Get<long>("batch_size"))))
        .Build();

    private static NodeDefinition LatentUpscale { get; } = new NodeBuilder("LatentUpscale")
        .DisplayName("Upscale Latent").Category("latent")
        .Required(InputSpec.Link("samples", IoTypes.Latent))
        .Required(InputSpec.Combo("upscale_method", Resampling.LatentMethods))
        .Required(InputSpec.Int("width", 512, 0, MaxResolution, 8))
        .Required(InputSpec.Int("height", 512, 0, MaxResolution, 8))
        .Required(InputSpec.Combo("crop", Resampling.CropMethods))
        .Output(IoTypes.Latent)
        .EstimateMemory(m => Resized(m.Upstream<LatentShape>("samples"), s => UpscaledSize(s, m.Literals.Get<long>("width"), m.Literals.Get<long>("height"))))
        .ExecuteTensors((_, i) => NodeOutput.Of(Upscale(i.Value<LatentValue>("samples"), i.Get<string>("upscale_method"),
            i.Get<long>("width"), i.Get<long>("height"), i.Get<string>("crop"))))
        .Build();

    private static NodeDefinition LatentUpscaleBy { get; } = new NodeBuilder("LatentUpscaleBy")
        .DisplayName("Upscale Latent By").Category("latent")
        .Required(InputSpec.Link("samples", IoTypes.Latent))
        .Required(InputSpec.Combo("upscale_method", Resampling.LatentMethods))
        .Required(InputSpec.Float("scale_by", 1.5, 0.01, 8.0, 0.01))
        .Output(IoTypes.Latent)
        .EstimateMemory(m => Resized(m.Upstream<LatentShape>("samples"), s =>
        {
            double by = m.Literals.Get<double>("scale_by");
            return (Math.Max(1, (long)Math.Round(s.Height * by)), Math.Max(1, (long)Math.Round(s.Width * by)));
        }))
        .ExecuteTensors((_, i) => NodeOutput.Of(UpscaleBy(i.Value<LatentValue>("samples"), i.Get<string>("upscale_method"),
            i.Get<double>("scale_by"))))
        .Build();

    private static NodeDefinition SetLatentNoiseMask { get; } = new NodeBuilder("SetLatentNoiseMask")
        .DisplayName("Set Latent Noise Mask").Category("latent/inpaint")
        .Required(InputSpec.Link("samples", IoTypes.Latent))
        .Required(InputSpec.Link("mask", IoTypes.Mask))
        .Output(IoTypes.Latent)
        .EstimateMemory(m => m.Upstream<LatentShape>("samples") is { } s ? new MemoryEstimate(2 * s.Bytes, [s]) : MemoryEstimate.Unknown)
        .ExecuteTensors((_, i) =>
        {
            Tensor mask = i.Value<Tensor>("mask");
            return NodeOutput.Of(i.Value<LatentValue>("samples").WithNoiseMask(mask.Reshape(-1, 1, mask.Size(-2), mask.Size(-1)).Contiguous()));
        })
        .Build();

    /// <summary>A resize's memory: the input and the output latent, and the output's shape for the nodes downstream.</summary>
    private static MemoryEstimate Resized(LatentShape? input, Func<LatentShape, (long Height, long Width)> size)
    {
        if (input is null) return MemoryEstimate.Unknown;
        var (h, w) = size(input);
        var output = input with { Height = h, Width = w };
        return new MemoryEstimate(input.Bytes + output.Bytes, [output]);
    }

    /// <summary>LatentUpscale's output size in latent pixels (the same rules as <see cref="Upscale"/>).</summary>
    private static (long Height, long Width) UpscaledSize(LatentShape s, long width, long height)
    {
        if (width == 0 && height == 0) return (s.Height, s.Width);
        if (width == 0)
        {
            height = Math.Max(64, height);
            width = Math.Max(64, (long)Math.Round(s.Width * (double)height / s.Height));
        }
        else if (height == 0)
        {
            width = Math.Max(64, width);
            height = Math.Max(64, (long)Math.Round(s.Height * (double)width / s.Width));
        }
        else
        {
            width = Math.Max(64, width);
            height = Math.Max(64, height);
        }
        return (height / 8, width / 8);
    }

    /// <summary>zeros [batch, 4, height // 8, width // 8] (float32, CPU).</summary>
    public static LatentValue Empty(long width, long height, long batch) => new(Torch.Zeros([batch, 4, height / 8, width / 8]));

    /// <summary>
    /// ComfyUI LatentUpscale: width/height in pixels (at least 64; 0 keeps the aspect ratio), resized to pixels // 8;
    /// 0 × 0 returns the latent unchanged.
    /// </summary>
    public static LatentValue Upscale(LatentValue latent, string method, long width, long height, string crop)
    {
        if (width == 0 && height == 0) return latent.WithSamples(latent.Samples.Alias());
        long h = latent.Samples.Size(-2), w = latent.Samples.Size(-1);
        if (width == 0)
        {
            height = Math.Max(64, height);
            width = Math.Max(64, (long)Math.Round(w * (double)height / h));
        }
        else if (height == 0)
        {
            width = Math.Max(64, width);
            height = Math.Max(64, (long)Math.Round(h * (double)width / w));
        }
        else
        {
            width = Math.Max(64, width);
            height = Math.Max(64, height);
        }
        return latent.WithSamples(Resampling.CommonUpscale(latent.Samples, width / 8, height / 8, method, crop));
    }

    /// <summary>ComfyUI LatentUpscaleBy: each side round(size · scale) (Python's round).</summary>
    public static LatentValue UpscaleBy(LatentValue latent, string method, double scale)
    {
        long width = (long)Math.Round(latent.Samples.Size(-1) * scale), height = (long)Math.Round(latent.Samples.Size(-2) * scale);
        return latent.WithSamples(Resampling.CommonUpscale(latent.Samples, width, height, method, "disabled"));
    }
}
