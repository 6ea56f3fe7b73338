using CharacterGen.Diffusion.Imaging;

namespace CharacterGen.Diffusion.Depth;

/// <summary>
/// comfyui_controlnet_aux's resize_image_with_pad: the short side becomes <c>resolution</c> (k = resolution / min(H, W),
/// each side round(side · k) with numpy's half-to-even rounding), cv2 INTER_AREA when k ≤ 1 else INTER_CUBIC, then the
/// bottom and right edges are replicated to multiples of 64. Detectors run on the padded image and crop back.
/// </summary>
public static class AuxResize
{
    /// <summary>The resized size (before padding) of an H×W image.</summary>
    public static (int Height, int Width) TargetSize(int height, int width, int resolution)
    {
        double k = (double)resolution / Math.Min(height, width);
        return ((int)Math.Round(height * k, MidpointRounding.ToEven), (int)Math.Round(width * k, MidpointRounding.ToEven));
    }

    /// <summary>Resized to <paramref name="resolution"/> on the short side, not padded.</summary>
    public static DecodedImage Resize(DecodedImage image, int resolution)
    {
        var (h, w) = TargetSize(image.Height, image.Width, resolution);
        double k = (double)resolution / Math.Min(image.Height, image.Width);
        byte[] pixels = k > 1
            ? CvCubicResize.Resize(image.Pixels, image.Width, image.Height, image.Channels, w, h)
            : CvAreaResize.Resize(image.Pixels, image.Width, image.Height, image.Channels, w, h);
        return new DecodedImage(w, h, image.Channels, pixels);
    }

    /// <summary>Resized, then padded to multiples of 64 by repeating the last row and column.</summary>
    public static DecodedImage ResizeWithPad(DecodedImage image, int resolution) => Pad64(Resize(image, resolution));

    public static DecodedImage Pad64(DecodedImage image)
    {
        int w = (image.Width + 63) / 64 * 64, h = (image.Height + 63) / 64 * 64, c = image.Channels;
        if (w == image.Width && h == image.Height) return image;
        var padded = new byte[w * h * c];
        for (int y = 0; y < h; y++)
        {
            int sy = Math.Min(y, image.Height - 1);
            for (int x = 0; x < w; x++)
                Array.Copy(image.Pixels, (sy * image.Width + Math.Min(x, image.Width - 1)) * c, padded, (y * w + x) * c, c);
        }
        return new DecodedImage(w, h, c, padded);
    }

    /// <summary>The top-left <paramref name="width"/>×<paramref name="height"/> (remove_pad).</summary>
    public static DecodedImage Crop(DecodedImage image, int width, int height)
    {
        if (width == image.Width && height == image.Height) return image;
        int c = image.Channels;
        var cropped = new byte[width * height * c];
        for (int y = 0; y < height; y++) Array.Copy(image.Pixels, y * image.Width * c, cropped, y * width * c, width * c);
        return new DecodedImage(width, height, c, cropped);
    }

    /// <summary>HWC3: grey to three channels; RGBA composited over white (colour·a + 255·(1 − a), truncated).</summary>
    public static DecodedImage ToRgb(DecodedImage image)
    {
        if (image.Channels == 3) return image;
        var rgb = new byte[image.Width * image.Height * 3];
        for (int p = 0; p < image.Width * image.Height; p++)
            for (int ch = 0; ch < 3; ch++)
            {
                if (image.Channels == 1) { rgb[p * 3 + ch] = image.Pixels[p]; continue; }
                float alpha = image.Pixels[p * 4 + 3] / 255f;
                rgb[p * 3 + ch] = (byte)Math.Clamp(image.Pixels[p * 4 + ch] * alpha + 255f * (1f - alpha), 0, 255);
            }
        return new DecodedImage(image.Width, image.Height, 3, rgb);
    }
}
