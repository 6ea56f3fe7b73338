using CharacterGen.Diffusion.Depth;
using CharacterGen.GraphRuntime.Contracts;
using CharacterGen.Nodes.Runtime;

namespace CharacterGen.Nodes.Depth;

/// <summary>
/// Peak memory of a depth preprocessor, from the input IMAGE's shape, on the high side like <see cref="Image.ImageMemory"/>:
/// the input, the output batch, and for the picture being estimated its 8-bit copy, the float64 resize buffers, the
/// network input and map, and the full-size float map (bounded per pixel over the largest of the image, its padded
/// resize and the network size). The ONNX session's own activations live outside libtorch and are not counted.
/// </summary>
internal static class DepthMemory
{
    private const long WorkBytesPerPixel = 64;

    public static MemoryEstimate Estimate(ImageShape? input, long resolution)
    {
        if (input is null) return MemoryEstimate.Unknown;
        int height = (int)input.Height, width = (int)input.Width, res = (int)Math.Max(64, resolution);
        var (h, w) = AuxResize.TargetSize(height, width, res);
        var output = new ImageShape(input.Batch, h, w);
        var (netH, netW) = DepthAnythingV2.NetworkSize(height, width);
        long padded = (long)((h + 63) / 64 * 64) * ((w + 63) / 64 * 64);
        long work = WorkBytesPerPixel * Math.Max(Math.Max((long)height * width, padded), (long)netH * netW);
        return new MemoryEstimate(input.Bytes + 2 * output.Bytes + work, [output]);
    }
}
