using CharacterGen.Diffusion;
using CharacterGen.Tensors;

namespace CharacterGen.Diffusion.Imaging;

/// <summary>
/// ComfyUI's "lanczos" resize: the images go to 8-bit, are resized by Pillow's Lanczos filter (support 3, widened when
/// shrinking; separable, horizontal pass first; 22-bit fixed-point coefficients as Pillow's Resample.c) and come back
/// as value/255.
/// </summary>
public static class Lanczos
{
    private const int PrecisionBits = 32 - 8 - 2;

    /// <summary>[N, C, H, W] float in 0..1 → [N, C, height, width] float32.</summary>
    public static Tensor Resize(Tensor samples, long width, long height)
    {
        using var scope = Torch.NewScope();
        int n = (int)samples.Size(0), c = (int)samples.Size(1), h = (int)samples.Size(2), w = (int)samples.Size(3);
        // numpy: clip(255·x, 0, 255).astype(uint8), interleaved HWC
        byte[] pixels = (samples.Permute(0, 2, 3, 1).To(Device.Cpu, DType.Float32) * 255.0).Clamp(0, 255).To(DType.UInt8).Contiguous().ToArray<byte>();
        int outW = (int)width, outH = (int)height;
        var output = new byte[(long)n * outH * outW * c];
        for (int i = 0; i < n; i++)
        {
            byte[] image = pixels.AsSpan(i * h * w * c, h * w * c).ToArray();
            Resize(image, w, h, c, outW, outH).CopyTo(output.AsSpan(i * outH * outW * c));
        }
        Tensor result = Torch.FromArray<byte>(output, [n, outH, outW, c]).To(DType.Float32) / 255.0;
        return result.Permute(0, 3, 1, 2).Contiguous().To(samples.Device, samples.DType).MoveToOuterScope();
    }

    /// <summary>Pillow Image.resize(LANCZOS) of interleaved 8-bit pixels (or another of Pillow's filters).</summary>
    public static byte[] Resize(byte[] pixels, int width, int height, int channels, int outWidth, int outHeight, PillowFilter? filter = null)
    {
        if (outWidth == width && outHeight == height) return (byte[])pixels.Clone();
        filter ??= PillowFilter.Lanczos;
        var (vBounds, vKernel, vSize) = Coefficients(height, outHeight, filter);
        int firstRow = vBounds[0], lastRow = vBounds[(outHeight - 1) * 2] + vBounds[(outHeight - 1) * 2 + 1];

        byte[] source = pixels;
        int rows = height, rowOffset = 0;
        if (outWidth != width)
        {
            // Only the rows the vertical pass reads (Pillow's ybox_first..ybox_last).
            var (hBounds, hKernel, hSize) = Coefficients(width, outWidth, filter);
            rows = lastRow - firstRow;
            var temp = new byte[rows * outWidth * channels];
            for (int y = 0; y < rows; y++)
            {
                Interrupts.ThrowIfRequested(); // a row at a time: big images take seconds
                for (int x = 0; x < outWidth; x++)
                {
                    int min = hBounds[x * 2], count = hBounds[x * 2 + 1];
                    for (int ch = 0; ch < channels; ch++)
                    {
                        int sum = 1 << (PrecisionBits - 1);
                        for (int k = 0; k < count; k++)
                            sum += pixels[((y + firstRow) * width + min + k) * channels + ch] * hKernel[x * hSize + k];
                        temp[(y * outWidth + x) * channels + ch] = Clip8(sum);
                    }
                }
            }
            source = temp;
            rowOffset = firstRow;
        }
        if (outHeight == height && rowOffset == 0 && rows == height) return source;

        var result = new byte[outHeight * outWidth * channels];
        for (int y = 0; y < outHeight; y++)
        {
            Interrupts.ThrowIfRequested();
            int min = vBounds[y * 2] - rowOffset, count = vBounds[y * 2 + 1];
            for (int x = 0; x < outWidth; x++)
                for (int ch = 0; ch < channels; ch++)
                {
                    int sum = 1 << (PrecisionBits - 1);
                    for (int k = 0; k < count; k++)
                        sum += source[((min + k) * outWidth + x) * channels + ch] * vKernel[y * vSize + k];
                    result[(y * outWidth + x) * channels + ch] = Clip8(sum);
                }
        }
        return result;
    }

    // Pillow precompute_coeffs + normalize_coeffs_8bpc: per output pixel the first input index, the tap count and
    // fixed-point weights.
    private static (int[] Bounds, int[] Kernel, int Size) Coefficients(int inSize, int outSize, PillowFilter filter)
    {
        double scale = (double)inSize / outSize, filterScale = Math.Max(scale, 1.0);
        double support = filter.Support * filterScale;
        int size = (int)Math.Ceiling(support) * 2 + 1;
        var bounds = new int[outSize * 2];
        var kernel = new int[outSize * size];
        var weights = new double[size];
        for (int xx = 0; xx < outSize; xx++)
        {
            double center = (xx + 0.5) * scale, total = 0, ss = 1.0 / filterScale;
            int min = Math.Max((int)(center - support + 0.5), 0);
            int max = Math.Min((int)(center + support + 0.5), inSize) - min;
            for (int x = 0; x < max; x++) total += weights[x] = filter.Weight((x + min - center + 0.5) * ss);
            for (int x = 0; x < max; x++)
            {
                double k = total != 0.0 ? weights[x] / total : weights[x];
                kernel[xx * size + x] = k < 0 ? (int)(-0.5 + k * (1 << PrecisionBits)) : (int)(0.5 + k * (1 << PrecisionBits));
            }
            bounds[xx * 2] = min;
            bounds[xx * 2 + 1] = max;
        }
        return (bounds, kernel, size);
    }

    private static byte Clip8(int value) => (byte)Math.Clamp(value >> PrecisionBits, 0, 255);
}
