using CharacterGen.Diffusion.Imaging;
using CharacterGen.Diffusion.Onnx;
using CharacterGen.Tensors;

namespace CharacterGen.Diffusion.Depth;

/// <summary>
/// comfyui_controlnet_aux's MiDaS-DepthMapPreprocessor (v1.1.5: Intel/dpt-hybrid-midas through transformers'
/// DPTImageProcessor) on an ONNX export: the padded image (<see cref="AuxResize.ResizeWithPad"/>) is resized to 384×384
/// with Pillow's bilinear filter (aspect not kept), scaled to −1..1 ((v/255 − 0.5)/0.5, in float32 as transformers
/// does), the network's map is resized bicubically (align_corners false) to the padded size, min-max scaled to 8
/// bits and cropped back.
/// </summary>
public sealed class MidasDpt(OnnxModel model) : DepthEstimator(model)
{
    public const int InputSize = 384;

    public override DecodedImage Estimate(DecodedImage rgb, int resolution)
    {
        DecodedImage resized = AuxResize.Resize(rgb, resolution), padded = AuxResize.Pad64(resized);
        var (h, w) = FixedInputSize ?? (InputSize, InputSize);
        byte[] net = Lanczos.Resize(padded.Pixels, padded.Width, padded.Height, 3, w, h, PillowFilter.Bilinear);
        var planar = new float[3 * w * h];
        for (int p = 0; p < w * h; p++)
            for (int c = 0; c < 3; c++)
                planar[c * w * h + p] = ((float)(net[p * 3 + c] * (1 / 255.0)) - 0.5f) / 0.5f;
        var (depth, dw, dh) = Infer(planar, w, h);
        float[] full = DepthMap.Interpolate(depth, dw, dh, padded.Width, padded.Height, InterpolationMode.Bicubic, alignCorners: false);
        return AuxResize.Crop(DepthMap.ToRgb8(full, padded.Width, padded.Height), resized.Width, resized.Height);
    }
}
