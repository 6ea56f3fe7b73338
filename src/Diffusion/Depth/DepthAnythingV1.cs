using CharacterGen.Diffusion.Imaging;
using CharacterGen.Diffusion.Onnx;
using CharacterGen.Tensors;

namespace CharacterGen.Diffusion.Depth;

/// <summary>
/// comfyui_controlnet_aux's DepthAnythingPreprocessor (transformers' depth-estimation pipeline over
/// LiheYoung/depth-anything-*-hf) on an ONNX export: the padded image (<see cref="AuxResize.ResizeWithPad"/>) is resized
/// with Pillow's bicubic filter to transformers' DPT size (keep aspect with the scale nearer 1, each side a multiple of
/// 14), ImageNet mean/std in float32; the map is resized bicubically (align_corners false) to the padded size, min-max
/// scaled to 8 bits and cropped back.
/// </summary>
public sealed class DepthAnythingV1(OnnxModel model) : DepthEstimator(model)
{
    public const int InputSize = 518;
    private static readonly float[] Mean = [0.485f, 0.456f, 0.406f], Std = [0.229f, 0.224f, 0.225f];

    public override DecodedImage Estimate(DecodedImage rgb, int resolution)
    {
        DecodedImage resized = AuxResize.Resize(rgb, resolution), padded = AuxResize.Pad64(resized);
        var (h, w) = FixedInputSize ?? NetworkSize(padded.Height, padded.Width);
        byte[] net = Lanczos.Resize(padded.Pixels, padded.Width, padded.Height, 3, w, h, PillowFilter.Bicubic);
        var planar = new float[3 * w * h];
        for (int p = 0; p < w * h; p++)
            for (int c = 0; c < 3; c++)
                planar[c * w * h + p] = ((float)(net[p * 3 + c] * (1 / 255.0)) - Mean[c]) / Std[c];
        var (depth, dw, dh) = Infer(planar, w, h);
        float[] full = DepthMap.Interpolate(depth, dw, dh, padded.Width, padded.Height, InterpolationMode.Bicubic, alignCorners: false);
        return AuxResize.Crop(DepthMap.ToRgb8(full, padded.Width, padded.Height), resized.Width, resized.Height);
    }

    /// <summary>
    /// transformers' DPT get_resize_output_image_size(518×518, keep_aspect_ratio, multiple 14): the scale nearer 1 is
    /// used for both sides, each rounded (half to even) to a multiple of 14.
    /// </summary>
    public static (int Height, int Width) NetworkSize(int height, int width)
    {
        double scaleH = (double)InputSize / height, scaleW = (double)InputSize / width;
        if (Math.Abs(1 - scaleW) < Math.Abs(1 - scaleH)) scaleH = scaleW;
        else scaleW = scaleH;
        return (Multiple14(scaleH * height), Multiple14(scaleW * width));
    }

    private static int Multiple14(double x) => (int)(Math.Round(x / 14, MidpointRounding.ToEven) * 14);
}
