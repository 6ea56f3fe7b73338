using CharacterGen.Diffusion;
using CharacterGen.Tensors;

namespace CharacterGen.Diffusion.Imaging;

/// <summary>
/// ComfyUI's bislerp upscale (comfy.utils.bislerp): bilinear resizing where each pair of neighbouring channel vectors is
/// spherically interpolated (direction) with linearly interpolated length, first along the width, then the height.
/// </summary>
public static class Bislerp
{
    /// <summary>[N, C, H, W] → [N, C, height, width] in the input's dtype.</summary>
    public static Tensor Resize(Tensor samples, long width, long height)
    {
        using var scope = Torch.NewScope();
        int n = (int)samples.Size(0), c = (int)samples.Size(1), h = (int)samples.Size(2), w = (int)samples.Size(3);
        float[] data = samples.To(Device.Cpu, DType.Float32).Contiguous().ToArray<float>();
        int newW = (int)width, newH = (int)height;

        // Along the width: [n, c, h, w] → [n, c, h, newW].
        var (ratios, first, second) = BilinearData(w, newW);
        float[] mid = new float[n * c * h * newW];
        float[] a = new float[c], b = new float[c], r = new float[c];
        for (int i = 0; i < n; i++)
            for (int y = 0; y < h; y++)
            {
                Interrupts.ThrowIfRequested();
                for (int x = 0; x < newW; x++)
                {
                    for (int ch = 0; ch < c; ch++)
                    {
                        int row = ((i * c + ch) * h + y) * w;
                        a[ch] = data[row + first[x]];
                        b[ch] = data[row + second[x]];
                    }
                    Slerp(a, b, ratios[x], r);
                    for (int ch = 0; ch < c; ch++) mid[((i * c + ch) * h + y) * newW + x] = r[ch];
                }
            }

        // Along the height: [n, c, h, newW] → [n, c, newH, newW].
        (ratios, first, second) = BilinearData(h, newH);
        float[] result = new float[n * c * newH * newW];
        for (int i = 0; i < n; i++)
            for (int y = 0; y < newH; y++)
            {
                Interrupts.ThrowIfRequested();
                for (int x = 0; x < newW; x++)
                {
                    for (int ch = 0; ch < c; ch++)
                    {
                        int plane = (i * c + ch) * h;
                        a[ch] = mid[(plane + first[y]) * newW + x];
                        b[ch] = mid[(plane + second[y]) * newW + x];
                    }
                    Slerp(a, b, ratios[y], r);
                    for (int ch = 0; ch < c; ch++) result[((i * c + ch) * newH + y) * newW + x] = r[ch];
                }
            }
        return Torch.FromArray<float>(result, [n, c, newH, newW]).To(samples.Device, samples.DType).MoveToOuterScope();
    }

    // generate_bilinear_data: source positions from a bilinear resize of 0..len−1 (and of 1..len with the last kept),
    // computed with the same kernel ComfyUI uses.
    private static (float[] Ratios, int[] First, int[] Second) BilinearData(int oldLength, int newLength)
    {
        using var scope = Torch.NewScope();
        Tensor coords = Torch.Arange(0, oldLength).Reshape(1, 1, 1, oldLength);
        Tensor positions = F.Interpolate(coords, 1, newLength, InterpolationMode.Bilinear);
        float[] p1 = positions.ToArray<float>();
        float[] plusOne = Enumerable.Range(1, oldLength).Select(v => (float)v).ToArray();
        plusOne[^1] -= 1;
        float[] p2 = F.Interpolate(Torch.FromArray<float>(plusOne, [1, 1, 1, oldLength]), 1, newLength, InterpolationMode.Bilinear).ToArray<float>();
        return (p1.Select(v => v - MathF.Floor(v)).ToArray(), p1.Select(v => (int)v).ToArray(), p2.Select(v => (int)v).ToArray());
    }

    // slerp(b1, b2, r) per vector, with ComfyUI's edge cases: (nearly) equal directions keep b1, opposite ones lerp.
    private static void Slerp(float[] b1, float[] b2, float r, float[] result)
    {
        float n1 = 0, n2 = 0;
        for (int i = 0; i < b1.Length; i++)
        {
            n1 += b1[i] * b1[i];
            n2 += b2[i] * b2[i];
        }
        n1 = MathF.Sqrt(n1);
        n2 = MathF.Sqrt(n2);
        float dot = 0;
        for (int i = 0; i < b1.Length; i++) dot += Unit(b1[i], n1) * Unit(b2[i], n2);
        if (dot > 1 - 1e-5f)
        {
            Array.Copy(b1, result, b1.Length);
            return;
        }
        if (dot < 1e-5f - 1)
        {
            for (int i = 0; i < b1.Length; i++) result[i] = b1[i] * (1 - r) + b2[i] * r;
            return;
        }
        float omega = MathF.Acos(dot), so = MathF.Sin(omega);
        float s1 = MathF.Sin((1 - r) * omega) / so, s2 = MathF.Sin(r * omega) / so, length = n1 * (1 - r) + n2 * r;
        for (int i = 0; i < b1.Length; i++) result[i] = (s1 * Unit(b1[i], n1) + s2 * Unit(b2[i], n2)) * length;
    }

    private static float Unit(float v, float norm) => norm == 0 ? 0 : v / norm;
}
