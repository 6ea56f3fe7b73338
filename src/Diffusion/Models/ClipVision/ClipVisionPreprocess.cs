using CharacterGen.Tensors;

namespace CharacterGen.Diffusion.Models.ClipVision;

/// <summary>
/// ComfyUI's clip_preprocess: an IMAGE [B, H, W, C] in 0..1 → pixels [B, 3, S, S]. Unless it already is S×S, the image is
/// resized (bicubic, antialiased) so its shorter side is S and centre-cropped (crop), or squashed to S×S (no crop); then
/// quantised to 8 bits as a saved picture would be and normalised with CLIP's mean and std.
/// </summary>
public static class ClipVisionPreprocess
{
    private static readonly float[] Mean = [0.48145466f, 0.4578275f, 0.40821073f];
    private static readonly float[] Std = [0.26862954f, 0.26130258f, 0.27577711f];

    public static Tensor Apply(Tensor image, int size, bool crop = true)
    {
        if (image.Dim != 4 || image.Size(3) < 3) throw new ArgumentException($"an IMAGE must be [B, H, W, C≥3], got {image}");
        using var scope = Torch.NewScope();
        Tensor x = image.Narrow(3, 0, 3).To(DType.Float32).Permute(0, 3, 1, 2);
        long h = x.Size(2), w = x.Size(3);
        if (h != size || w != size)
        {
            // Python's round() (half to even), as ComfyUI sizes the resize.
            (long rh, long rw) = crop
                ? ((long)Math.Round(size / (double)Math.Min(h, w) * h), (long)Math.Round(size / (double)Math.Min(h, w) * w))
                : (size, size);
            x = F.Interpolate(x.Contiguous(), rh, rw, InterpolationMode.Bicubic, antialias: true);
            x = x.Narrow(2, (rh - size) / 2, size).Narrow(3, (rw - size) / 2, size);
        }
        x = (x * 255.0).Clamp(0, 255).Round() / 255.0;
        Tensor mean = Torch.FromArray(Mean, x.Device).Reshape(1, 3, 1, 1);
        Tensor std = Torch.FromArray(Std, x.Device).Reshape(1, 3, 1, 1);
        return ((x - mean) / std).Contiguous().MoveToOuterScope();
    }
}
