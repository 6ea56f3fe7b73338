namespace CharacterGen.Diffusion.Imaging;

/// <summary>8-bit interleaved pixels, row-major: RGB (3 channels), RGBA (4) or grey (1).</summary>
public sealed record DecodedImage(int Width, int Height, int Channels, byte[] Pixels)
{
    public bool HasAlpha => Channels == 4;
}
