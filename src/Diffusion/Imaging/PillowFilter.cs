namespace CharacterGen.Diffusion.Imaging;

/// <summary>
/// A Pillow resampling filter (libImaging/Resample.c): its support at scale 1 and its weight function. Pillow widens
/// the support by the scale when shrinking, so bilinear and bicubic average when they reduce.
/// </summary>
public sealed record PillowFilter(string Name, double Support, Func<double, double> Weight)
{
    public static PillowFilter Lanczos { get; } = new("lanczos", 3.0, x => -3.0 <= x && x < 3.0 ? Sinc(x) * Sinc(x / 3.0) : 0.0);

    public static PillowFilter Bilinear { get; } = new("bilinear", 1.0, x =>
    {
        x = Math.Abs(x);
        return x < 1.0 ? 1.0 - x : 0.0;
    });

    /// <summary>Pillow's bicubic: Keys' cubic with a = −0.5.</summary>
    public static PillowFilter Bicubic { get; } = new("bicubic", 2.0, x =>
    {
        const double a = -0.5;
        x = Math.Abs(x);
        if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
        if (x < 2.0) return (((x - 5) * x + 8) * x - 4) * a;
        return 0.0;
    });

    private static double Sinc(double x)
    {
        if (x == 0.0) return 1.0;
        x *= Math.PI;
        return Math.Sin(x) / x;
    }
}
