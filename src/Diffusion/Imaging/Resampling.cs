using CharacterGen.Tensors;

namespace CharacterGen.Diffusion.Imaging;

/// <summary>
/// ComfyUI's comfy.utils.common_upscale for NCHW tensors: an optional centre crop to the new aspect ratio, then
/// torch interpolate (align_corners false, no antialias), PIL's Lanczos on 8-bit pixels, or bislerp.
/// </summary>
public static class Resampling
{
    public static IReadOnlyList<string> LatentMethods { get; } = ["nearest-exact", "bilinear", "area", "bicubic", "bislerp"];
    public static IReadOnlyList<string> ImageMethods { get; } = ["nearest-exact", "bilinear", "area", "bicubic", "lanczos"];
    public static IReadOnlyList<string> CropMethods { get; } = ["disabled", "center"];

    /// <summary>Resizes [N, C, H, W] to <paramref name="height"/> × <paramref name="width"/>; the result is a new tensor.</summary>
    public static Tensor CommonUpscale(Tensor samples, long width, long height, string method, string crop)
    {
        if (width < 1 || height < 1) throw new ArgumentException($"cannot resize to {width}×{height}");
        using var scope = Torch.NewScope();
        Tensor s = crop == "center" ? CenterCrop(samples, width, height) : samples;
        Tensor result = method switch
        {
            "bislerp" => Bislerp.Resize(s, width, height),
            "lanczos" => Lanczos.Resize(s, width, height),
            _ => F.Interpolate(s.To(DType.Float32), height, width, Mode(method)).To(samples.DType),
        };
        return result.MoveToOuterScope();
    }

    /// <summary>
    /// Cuts equal margins off the longer side so the aspect matches width/height:
    /// x = round((W − W·(new/old))/2) (Python's round: halves to even).
    /// </summary>
    public static Tensor CenterCrop(Tensor samples, long width, long height)
    {
        long oldWidth = samples.Size(-1), oldHeight = samples.Size(-2);
        double oldAspect = (double)oldWidth / oldHeight, newAspect = (double)width / height;
        long x = 0, y = 0;
        if (oldAspect > newAspect) x = (long)Math.Round((oldWidth - oldWidth * (newAspect / oldAspect)) / 2);
        else if (oldAspect < newAspect) y = (long)Math.Round((oldHeight - oldHeight * (oldAspect / newAspect)) / 2);
        return samples.Narrow(-2, y, oldHeight - y * 2).Narrow(-1, x, oldWidth - x * 2);
    }

    private static InterpolationMode Mode(string method) => method switch
    {
        "nearest-exact" => InterpolationMode.NearestExact,
        "bilinear" => InterpolationMode.Bilinear,
        "area" => InterpolationMode.Area,
        "bicubic" => InterpolationMode.Bicubic,
        _ => throw new ArgumentException($"unknown upscale method '{method}'"),
    };
}
