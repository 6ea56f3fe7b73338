namespace CharacterGen.Diffusion.Imaging;

/// <summary>
/// OpenCV's cv2.resize(..., INTER_AREA) for shrinking 8-bit interleaved pixels: each output pixel is the area-weighted
/// mean of the source pixels its cell covers. Integer factors take OpenCV's fast path (2×2: (sum + 2) >> 2; others:
/// sum · (1/area) rounded half to even); other factors use its float32 weight tables (computeResizeAreaTab), summed
/// row by row in float32 as ResizeArea_Invoker does, then rounded half to even.
/// </summary>
public static class CvAreaResize
{
    private const double DblEpsilon = 2.220446049250313e-16; // C's DBL_EPSILON (not .NET's double.Epsilon)

    public static byte[] Resize(byte[] pixels, int width, int height, int channels, int outWidth, int outHeight)
    {
        if (outWidth == width && outHeight == height) return (byte[])pixels.Clone();
        double scaleX = 1.0 / ((double)outWidth / width), scaleY = 1.0 / ((double)outHeight / height);
        if (scaleX < 1 || scaleY < 1) throw new ArgumentException("INTER_AREA here only shrinks (cv2 interpolates bilinearly when enlarging)");
        int ix = (int)Math.Round(scaleX), iy = (int)Math.Round(scaleY);
        if (Math.Abs(scaleX - ix) < DblEpsilon && Math.Abs(scaleY - iy) < DblEpsilon)
            return Fast(pixels, width, channels, outWidth, outHeight, ix, iy);
        return General(pixels, width, height, channels, outWidth, outHeight, scaleX, scaleY);
    }

    private static byte[] Fast(byte[] pixels, int width, int channels, int outWidth, int outHeight, int ix, int iy)
    {
        var output = new byte[outWidth * outHeight * channels];
        float scale = 1f / (ix * iy);
        for (int dy = 0; dy < outHeight; dy++)
            for (int dx = 0; dx < outWidth; dx++)
                for (int c = 0; c < channels; c++)
                {
                    int sum = 0;
                    for (int y = 0; y < iy; y++)
                        for (int x = 0; x < ix; x++) sum += pixels[((dy * iy + y) * width + dx * ix + x) * channels + c];
                    output[(dy * outWidth + dx) * channels + c] = ix == 2 && iy == 2 ? (byte)((sum + 2) >> 2) : Saturate(sum * scale);
                }
        return output;
    }

    private static byte[] General(byte[] pixels, int width, int height, int channels, int outWidth, int outHeight, double scaleX, double scaleY)
    {
        var xTab = Table(width, outWidth, scaleX);
        var yTab = Table(height, outHeight, scaleY);
        int rowLength = outWidth * channels;
        var output = new byte[outHeight * rowLength];
        var buf = new float[rowLength];
        var sum = new float[rowLength];
        int previous = yTab[0].Dst;
        foreach (var (dy, sy, beta) in yTab)
        {
            Array.Clear(buf);
            foreach (var (dx, sx, alpha) in xTab)
                for (int c = 0; c < channels; c++)
                    buf[dx * channels + c] = buf[dx * channels + c] + pixels[(sy * width + sx) * channels + c] * alpha;
            if (dy != previous)
            {
                Interrupts.ThrowIfRequested();
                for (int i = 0; i < rowLength; i++)
                {
                    output[previous * rowLength + i] = Saturate(sum[i]);
                    sum[i] = beta * buf[i];
                }
                previous = dy;
            }
            else
            {
                for (int i = 0; i < rowLength; i++) sum[i] += beta * buf[i];
            }
        }
        for (int i = 0; i < rowLength; i++) output[previous * rowLength + i] = Saturate(sum[i]);
        return output;
    }

    /// <summary>OpenCV computeResizeAreaTab: (destination, source, weight) triples in destination order.</summary>
    private static List<(int Dst, int Src, float Weight)> Table(int size, int outSize, double scale)
    {
        var tab = new List<(int, int, float)>();
        for (int d = 0; d < outSize; d++)
        {
            double f1 = d * scale, f2 = f1 + scale, cell = Math.Min(scale, size - f1);
            int s1 = (int)Math.Ceiling(f1), s2 = (int)Math.Floor(f2);
            s2 = Math.Min(s2, size - 1);
            s1 = Math.Min(s1, s2);
            if (s1 - f1 > 1e-3) tab.Add((d, s1 - 1, (float)((s1 - f1) / cell)));
            for (int s = s1; s < s2; s++) tab.Add((d, s, (float)(1.0 / cell)));
            if (f2 - s2 > 1e-3) tab.Add((d, s2, (float)(Math.Min(Math.Min(f2 - s2, 1.0), cell) / cell)));
        }
        return tab;
    }

    // saturate_cast<uchar>(float): round half to even, then clamp.
    private static byte Saturate(float v) => (byte)Math.Clamp(MathF.Round(v), 0, 255);
}
