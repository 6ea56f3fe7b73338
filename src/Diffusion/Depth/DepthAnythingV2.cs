using CharacterGen.Diffusion.Imaging;
using CharacterGen.Diffusion.Onnx;
using CharacterGen.Tensors;

namespace CharacterGen.Diffusion.Depth;

/// <summary>
/// comfyui_controlnet_aux's DepthAnythingV2Preprocessor (Depth Anything V2's infer_image) on an ONNX export: on the
/// original image, value/255 resized with cv2 INTER_CUBIC so both sides are at least 518 and multiples of 14, ImageNet
/// mean/std; the network's map is resized bilinearly (align_corners) back to the image, min-max scaled to 8 bits, and
/// then resized with <see cref="AuxResize"/> to the requested resolution.
/// </summary>
public sealed class DepthAnythingV2(OnnxModel model, bool metric = false) : DepthEstimator(model)
{
    public const int InputSize = 518;
    public static readonly double[] Mean = [0.485, 0.456, 0.406], Std = [0.229, 0.224, 0.225];

    public override DecodedImage Estimate(DecodedImage rgb, int resolution)
    {
        var (h, w) = FixedInputSize ?? NetworkSize(rgb.Height, rgb.Width);
        double[] scaled = Array.ConvertAll(rgb.Pixels, p => p / 255.0);
        double[] resized = CvCubicResize.Resize(scaled, rgb.Width, rgb.Height, 3, w, h);
        var (depth, dw, dh) = Infer(Planar(resized, w, h, Mean, Std), w, h);
        float[] full = DepthMap.Interpolate(depth, dw, dh, rgb.Width, rgb.Height, InterpolationMode.Bilinear, alignCorners: true);
        return AuxResize.Resize(DepthMap.ToRgb8(full, rgb.Width, rgb.Height, invert: metric), resolution);
    }

    /// <summary>
    /// Depth Anything's Resize(keep_aspect_ratio, lower_bound, multiple of 14): scale = max(518/H, 518/W), each side
    /// round(side·scale / 14)·14 (half to even), or the ceiling when that falls below 518.
    /// </summary>
    public static (int Height, int Width) NetworkSize(int height, int width)
    {
        double scale = Math.Max((double)InputSize / height, (double)InputSize / width);
        return (Multiple14(scale * height), Multiple14(scale * width));
    }

    private static int Multiple14(double x)
    {
        int y = (int)(Math.Round(x / 14, MidpointRounding.ToEven) * 14);
        return y < InputSize ? (int)(Math.Ceiling(x / 14) * 14) : y;
    }
}
