namespace CharacterGen.Diffusion.DemoModel;

/// <summary>
/// One drawn picture of the demo dataset: a shape of a named colour, radius and centre (pixels) on a plain or vertical
/// gradient background (top and bottom colours), with the caption that describes it.
/// </summary>
public sealed record ShapeScene(
    DemoShape Shape, NamedColour Colour, double Radius, double CenterX, double CenterY,
    string Background, (byte R, byte G, byte B) Top, (byte R, byte G, byte B) Bottom, string Caption)
{
    public const int Size = 64;

    // 4×4 samples per pixel give anti-aliased edges, as a real photo of a shape would have.
    private const int Subsamples = 4;

    /// <summary>The background colour of row y (0-based), in 0–255 floats.</summary>
    public (double R, double G, double B) BackgroundAt(double y)
    {
        double t = Math.Clamp(y / (Size - 1), 0, 1);
        return (Top.R + (Bottom.R - Top.R) * t, Top.G + (Bottom.G - Top.G) * t, Top.B + (Bottom.B - Top.B) * t);
    }

    /// <summary>Planar RGB [3, 64, 64] in [−1, 1], as the VAE takes images.</summary>
    public float[] Render()
    {
        var pixels = new float[3 * Size * Size];
        for (int y = 0; y < Size; y++)
        {
            var bg = BackgroundAt(y);
            for (int x = 0; x < Size; x++)
            {
                double cover = Coverage(x, y);
                int i = y * Size + x;
                pixels[i] = Unit(bg.R + (Colour.R - bg.R) * cover);
                pixels[Size * Size + i] = Unit(bg.G + (Colour.G - bg.G) * cover);
                pixels[2 * Size * Size + i] = Unit(bg.B + (Colour.B - bg.B) * cover);
            }
        }
        return pixels;
    }

    /// <summary>The fraction of pixel (x, y) the shape covers.</summary>
    public double Coverage(int x, int y)
    {
        int inside = 0;
        for (int sy = 0; sy < Subsamples; sy++)
            for (int sx = 0; sx < Subsamples; sx++)
            {
                double px = x + (sx + 0.5) / Subsamples, py = y + (sy + 0.5) / Subsamples;
                if (ShapeGeometry.Contains(Shape, (px - CenterX) / Radius, (py - CenterY) / Radius)) inside++;
            }
        return inside / (double)(Subsamples * Subsamples);
    }

    private static float Unit(double value255) => (float)(value255 / 127.5 - 1);
}
