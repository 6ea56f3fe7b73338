using CharacterGen.Diffusion.Imaging;
using CharacterGen.GraphRuntime.Contracts;
using CharacterGen.Nodes.Runtime;
using CharacterGen.Tensors;

namespace CharacterGen.Nodes.Image;

/// <summary>ImageScale and ImageScaleBy (IMAGE is [B, H, W, C]; resizing works on [B, C, H, W]).</summary>
internal static class ImageScaleNodes
{
    private const long MaxResolution = 16384;

    public static IEnumerable<NodeDefinition> Definitions() => [ImageScale, ImageScaleBy];

    private static NodeDefinition ImageScale { get; } = new NodeBuilder("ImageScale")
        .DisplayName("Upscale Image").Category("image/upscaling")
        .Required(InputSpec.Link("image", IoTypes.Image))
        .Required(InputSpec.Combo("upscale_method", Resampling.ImageMethods))
        .Required(InputSpec.Int("width", 512, 0, MaxResolution, 1))
        .Required(InputSpec.Int("height", 512, 0, MaxResolution, 1))
        .Required(InputSpec.Combo("crop", Resampling.CropMethods))
        .Output(IoTypes.Image)
        .EstimateMemory(m => ImageMemory.Resize(m.Upstream<ImageShape>("image"), s =>
        {
            long width = m.Literals.Get<long>("width"), height = m.Literals.Get<long>("height");
            if (width == 0 && height == 0) return (s.Height, s.Width);
            if (width == 0) width = Math.Max(1, (long)Math.Round(s.Width * (double)height / s.Height));
            else if (height == 0) height = Math.Max(1, (long)Math.Round(s.Height * (double)width / s.Width));
            return (height, width);
        }))
        .ExecuteTensors((_, i) => NodeOutput.Of(Scale(i.Value<Tensor>("image"), i.Get<string>("upscale_method"),
            i.Get<long>("width"), i.Get<long>("height"), i.Get<string>("crop"))))
        .Build();

    private static NodeDefinition ImageScaleBy { get; } = new NodeBuilder("ImageScaleBy")
        .DisplayName("Upscale Image By").Category("image/upscaling")
        .Required(InputSpec.Link("image", IoTypes.Image))
        .Required(InputSpec.Combo("upscale_method", Resampling.ImageMethods))
        .Required(InputSpec.Float("scale_by", 1.0, 0.01, 8.0, 0.01))
        .Output(IoTypes.Image)
        .EstimateMemory(m => ImageMemory.Resize(m.Upstream<ImageShape>("image"), s =>
        {
            double by = m.Literals.Get<double>("scale_by");
            return ((long)Math.Round(s.Height * by), (long)Math.Round(s.Width * by));
        }))
        .ExecuteTensors((_, i) => NodeOutput.Of(ScaleBy(i.Value<Tensor>("image"), i.Get<string>("upscale_method"), i.Get<double>("scale_by"))))
        .Build();

    /// <summary>ComfyUI ImageScale: 0 for one side keeps the aspect ratio (at least 1 pixel); 0 × 0 keeps the image.</summary>
    public static Tensor Scale(Tensor image, string method, long width, long height, string crop)
    {
        if (width == 0 && height == 0) return image.Alias();
        Tensor samples = image.Permute(0, 3, 1, 2);
        if (width == 0) width = Math.Max(1, (long)Math.Round(samples.Size(3) * (double)height / samples.Size(2)));
        else if (height == 0) height = Math.Max(1, (long)Math.Round(samples.Size(2) * (double)width / samples.Size(3)));
        return Resampling.CommonUpscale(samples, width, height, method, crop).Permute(0, 2, 3, 1).Contiguous();
    }

    /// <summary>ComfyUI ImageScaleBy: each side round(size · scale).</summary>
    public static Tensor ScaleBy(Tensor image, string method, double scale)
    {
        Tensor samples = image.Permute(0, 3, 1, 2);
        long width = (long)Math.Round(samples.Size(3) * scale), height = (long)Math.Round(samples.Size(2) * scale);
        return Resampling.CommonUpscale(samples, width, height, method, "disabled").Permute(0, 2, 3, 1).Contiguous();
    }
}
