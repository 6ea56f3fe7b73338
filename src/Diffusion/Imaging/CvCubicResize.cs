namespace CharacterGen.Diffusion.Imaging;

/// <summary>
/// OpenCV's cv2.resize(..., INTER_CUBIC) on interleaved H×W×C pixels, as comfyui_controlnet_aux and Depth Anything
/// call it: source x = (dx + 0.5)·(src/dst) − 0.5 in float32, Keys' cubic with a = −0.75 (float32 coefficients), rows
/// and columns past the edge replicate it, horizontal pass first. 8-bit images use OpenCV's fixed point (coefficients
/// × 2048 rounded, rounding shift by 22 bits, saturated); float64 images accumulate in double.
/// </summary>
public static class CvCubicResize
{
    private const int CoefBits = 11;

    /// <summary>float64 pixels (cv2 on a float64 array, e.g. uint8 / 255.0).</summary>
    public static double[] Resize(double[] pixels, int width, int height, int channels, int outWidth, int outHeight)
    {
        if (outWidth == width && outHeight == height) return (double[])pixels.Clone();
        var (xOffsets, xCoefs) = Taps(width, outWidth);
        var (yOffsets, yCoefs) = Taps(height, outHeight);
        int rowLength = outWidth * channels;
        var rows = new double[height * rowLength];
        for (int y = 0; y < height; y++)
            for (int dx = 0; dx < outWidth; dx++)
                for (int c = 0; c < channels; c++)
                {
                    double sum = 0;
                    for (int k = 0; k < 4; k++)
                        sum += pixels[(y * width + xOffsets[dx * 4 + k]) * channels + c] * (double)xCoefs[dx * 4 + k];
                    rows[y * rowLength + dx * channels + c] = sum;
                }
        var output = new double[outHeight * rowLength];
        for (int dy = 0; dy < outHeight; dy++)
        {
            Interrupts.ThrowIfRequested();
            for (int i = 0; i < rowLength; i++)
            {
                double sum = 0;
                for (int k = 0; k < 4; k++) sum += rows[yOffsets[dy * 4 + k] * rowLength + i] * (double)yCoefs[dy * 4 + k];
                output[dy * rowLength + i] = sum;
            }
        }
        return output;
    }

    /// <summary>8-bit pixels, in OpenCV's fixed point (bit-exact with cv2 4.6 in the tests).</summary>
    public static byte[] Resize(byte[] pixels, int width, int height, int channels, int outWidth, int outHeight)
    {
        if (outWidth == width && outHeight == height) return (byte[])pixels.Clone();
        var (xOffsets, xCoefs) = Taps(width, outWidth);
        var (yOffsets, yCoefs) = Taps(height, outHeight);
        short[] xFixed = xCoefs.Select(Fixed).ToArray(), yFixed = yCoefs.Select(Fixed).ToArray();
        int rowLength = outWidth * channels;
        var rows = new int[height * rowLength];
        for (int y = 0; y < height; y++)
            for (int dx = 0; dx < outWidth; dx++)
                for (int c = 0; c < channels; c++)
                {
                    int sum = 0;
                    for (int k = 0; k < 4; k++) sum += pixels[(y * width + xOffsets[dx * 4 + k]) * channels + c] * xFixed[dx * 4 + k];
                    rows[y * rowLength + dx * channels + c] = sum;
                }
        var output = new byte[outHeight * rowLength];
        const int shift = CoefBits * 2;
        for (int dy = 0; dy < outHeight; dy++)
        {
            Interrupts.ThrowIfRequested();
            for (int i = 0; i < rowLength; i++)
            {
                int sum = 0;
                for (int k = 0; k < 4; k++) sum += rows[yOffsets[dy * 4 + k] * rowLength + i] * yFixed[dy * 4 + k];
                output[dy * rowLength + i] = (byte)Math.Clamp((sum + (1 << (shift - 1))) >> shift, 0, 255);
            }
        }
        return output;
    }

    /// <summary>For each output index: the four source indices (clamped to the edge) and their float32 weights.</summary>
    private static (int[] Offsets, float[] Coefs) Taps(int size, int outSize)
    {
        double scale = 1.0 / ((double)outSize / size); // OpenCV: 1 / inv_scale
        var offsets = new int[outSize * 4];
        var coefs = new float[outSize * 4];
        for (int d = 0; d < outSize; d++)
        {
            float f = (float)((d + 0.5) * scale - 0.5);
            int s = (int)MathF.Floor(f);
            f -= s;
            Span<float> w = stackalloc float[4];
            Keys(f, w);
            for (int k = 0; k < 4; k++)
            {
                offsets[d * 4 + k] = Math.Clamp(s - 1 + k, 0, size - 1);
                coefs[d * 4 + k] = w[k];
            }
        }
        return (offsets, coefs);
    }

    // OpenCV interpolateCubic, evaluated in float32 in its order.
    private static void Keys(float x, Span<float> c)
    {
        const float a = -0.75f;
        c[0] = ((a * (x + 1) - 5 * a) * (x + 1) + 8 * a) * (x + 1) - 4 * a;
        c[1] = ((a + 2) * x - (a + 3)) * x * x + 1;
        c[2] = ((a + 2) * (1 - x) - (a + 3)) * (1 - x) * (1 - x) + 1;
        c[3] = 1f - c[0] - c[1] - c[2];
    }

    private static short Fixed(float coef) => (short)Math.Clamp(MathF.Round(coef * (1 << CoefBits)), short.MinValue, short.MaxValue);
}
