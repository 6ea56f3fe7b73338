namespace CharacterGen.Diffusion.Imaging;

/// <summary>8-bit interleaved pixels, row-major: RGB (3 channels), RGBA (4) or grey (1).</summary>
public sealed record DecodedImage(int Width, int Height, int Channels, byte[] Pixels)
{
    public bool HasAlpha => Channels == 4;

    /// <summary>The same image as RGBA: grey and RGB gain an opaque alpha; an RGBA image is returned as it is.</summary>
    public DecodedImage ToRgba()
    {
        if (Channels == 4) return this;
        if (Channels is not (1 or 3)) throw new InvalidOperationException($"cannot convert {Channels} channels to RGBA");
        var rgba = new byte[Width * Height * 4];
        for (int p = 0, s = 0; p < rgba.Length; p += 4, s += Channels)
        {
            rgba[p] = Pixels[s];
            rgba[p + 1] = Pixels[Channels == 3 ? s + 1 : s];
            rgba[p + 2] = Pixels[Channels == 3 ? s + 2 : s];
            rgba[p + 3] = 255;
        }
        return new DecodedImage(Width, Height, 4, rgba);
    }
}
