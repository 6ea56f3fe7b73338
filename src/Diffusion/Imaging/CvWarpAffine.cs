namespace CharacterGen.Diffusion.Imaging;

/// <summary>
/// OpenCV's cv2.warpAffine(img, M, (w, h)) with its defaults (bilinear, constant border 0) on 8-bit interleaved
/// pixels, in OpenCV's fixed point: M is inverted, source coordinates are computed in 1/1024 and cut to 1/32 of a
/// pixel, and the four taps are weighted by (1/32-step) bilinear weights × 32768 with a rounding shift of 15 bits;
/// taps outside the image read 0.
/// </summary>
public static class CvWarpAffine
{
    private const int AbBits = 10, InterBits = 5, TabSize = 1 << InterBits, CoefBits = 15;

    /// <param name="m">The 2×3 forward matrix (source → destination), row-major.</param>
    public static byte[] Warp(byte[] pixels, int width, int height, int channels, double[] m, int outWidth, int outHeight)
    {
        double[] inv = Invert(m);
        const int abScale = 1 << AbBits, roundDelta = abScale / TabSize / 2;
        var output = new byte[outWidth * outHeight * channels];
        for (int y = 0; y < outHeight; y++)
        {
            int x0 = RoundInt((inv[1] * y + inv[2]) * abScale) + roundDelta;
            int y0 = RoundInt((inv[4] * y + inv[5]) * abScale) + roundDelta;
            for (int x = 0; x < outWidth; x++)
            {
                int sxFixed = (x0 + RoundInt(inv[0] * x * abScale)) >> (AbBits - InterBits);
                int syFixed = (y0 + RoundInt(inv[3] * x * abScale)) >> (AbBits - InterBits);
                int sx = sxFixed >> InterBits, sy = syFixed >> InterBits;
                int fx = sxFixed & (TabSize - 1), fy = syFixed & (TabSize - 1);
                // (1 − fy)(1 − fx), (1 − fy)fx, fy(1 − fx), fy·fx × 32768: products of 1/32 steps, exact (×32 of 1/1024 units).
                const int unit = (1 << CoefBits) / (TabSize * TabSize);
                int w00 = (TabSize - fy) * (TabSize - fx) * unit, w01 = (TabSize - fy) * fx * unit;
                int w10 = fy * (TabSize - fx) * unit, w11 = fy * fx * unit;
                for (int c = 0; c < channels; c++)
                {
                    int sum = Tap(pixels, width, height, channels, sx, sy, c) * w00 + Tap(pixels, width, height, channels, sx + 1, sy, c) * w01
                        + Tap(pixels, width, height, channels, sx, sy + 1, c) * w10 + Tap(pixels, width, height, channels, sx + 1, sy + 1, c) * w11;
                    output[(y * outWidth + x) * channels + c] = (byte)Math.Clamp((sum + (1 << (CoefBits - 1))) >> CoefBits, 0, 255);
                }
            }
        }
        return output;
    }

    private static int Tap(byte[] pixels, int width, int height, int channels, int x, int y, int c) =>
        (uint)x < (uint)width && (uint)y < (uint)height ? pixels[(y * width + x) * channels + c] : 0;

    // saturate_cast<int>(double): round half to even.
    private static int RoundInt(double v) => (int)Math.Round(v, MidpointRounding.ToEven);

    /// <summary>OpenCV's invertAffineTransform as warpAffine does it.</summary>
    private static double[] Invert(double[] m)
    {
        double d = m[0] * m[4] - m[1] * m[3];
        d = d != 0 ? 1.0 / d : 0;
        double a11 = m[4] * d, a22 = m[0] * d, a12 = -m[1] * d, a21 = -m[3] * d;
        double b1 = -a11 * m[2] - a12 * m[5], b2 = -a21 * m[2] - a22 * m[5];
        return [a11, a12, b1, a21, a22, b2];
    }
}
