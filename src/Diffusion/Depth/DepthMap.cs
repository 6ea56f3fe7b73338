using CharacterGen.Diffusion.Imaging;
using CharacterGen.Tensors;

namespace CharacterGen.Diffusion.Depth;

/// <summary>The estimators' common post-processing: resizing the raw map and turning it into an 8-bit RGB picture.</summary>
public static class DepthMap
{
    /// <summary>
    /// (d − min) / (max − min) · 255 in float32, truncated to a byte (numpy astype), replicated to three channels; a
    /// flat map (max = min) is black. <paramref name="invert"/> gives 255 − d (metric checkpoints).
    /// </summary>
    public static DecodedImage ToRgb8(float[] depth, int width, int height, bool invert = false)
    {
        float min = float.PositiveInfinity, max = float.NegativeInfinity;
        foreach (float d in depth)
        {
            if (d < min) min = d;
            if (d > max) max = d;
        }
        float range = max - min;
        var rgb = new byte[width * height * 3];
        for (int p = 0; p < width * height; p++)
        {
            byte v = range > 0 ? (byte)((depth[p] - min) / range * 255f) : (byte)0;
            if (invert) v = (byte)(255 - v);
            rgb[p * 3] = rgb[p * 3 + 1] = rgb[p * 3 + 2] = v;
        }
        return new DecodedImage(width, height, 3, rgb);
    }

    /// <summary>torch.nn.functional.interpolate of an [h, w] map to [height, width] (float32, on libtorch).</summary>
    public static float[] Interpolate(float[] depth, int width, int height, int outWidth, int outHeight, InterpolationMode mode, bool alignCorners)
    {
        using var scope = Torch.NewScope();
        Tensor map = Torch.FromArray(depth, [1, 1, height, width]);
        return F.Interpolate(map, outHeight, outWidth, mode, alignCorners).Contiguous().ToArray<float>();
    }
}
