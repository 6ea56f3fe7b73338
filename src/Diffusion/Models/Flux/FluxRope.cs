using CharacterGen.Tensors;

namespace CharacterGen.Diffusion.Models.Flux;

/// <summary>
/// FLUX's 3-axis rotary position embedding (BFL EmbedND / rope / apply_rope). Each token has a position per axis;
/// an axis of width d rotates d/2 adjacent element pairs (2k, 2k+1) by p·ω_k, ω_k = θ^(−2k/d). The axes' pairs are
/// laid side by side along the head: axis 0 owns the first d₀/2 pairs, and so on.
/// </summary>
public static class FluxRope
{
    /// <summary>ω_k = θ^(−2k/d) for k &lt; d/2, in float64 as BFL computes it.</summary>
    public static double[] Frequencies(int axisDim, double theta)
    {
        if (axisDim % 2 != 0) throw new ArgumentException($"a RoPE axis must be even, not {axisDim}", nameof(axisDim));
        var omega = new double[axisDim / 2];
        for (int k = 0; k < omega.Length; k++) omega[k] = 1.0 / Math.Pow(theta, 2.0 * k / axisDim);
        return omega;
    }

    /// <summary>
    /// cos and sin of every pair's angle, float32 [L, headDim/2] each, for positions [L][axes] (angles in float64).
    /// </summary>
    public static (Tensor Cos, Tensor Sin) Angles(double[][] positions, int[] axesDim, double theta, Device device)
    {
        int pairs = axesDim.Sum() / 2;
        var cos = new float[positions.Length * pairs];
        var sin = new float[positions.Length * pairs];
        double[][] omegas = axesDim.Select(d => Frequencies(d, theta)).ToArray();
        for (int l = 0; l < positions.Length; l++)
        {
            int j = 0;
            for (int a = 0; a < axesDim.Length; a++)
                foreach (double w in omegas[a])
                {
                    double angle = positions[l][a] * w;
                    cos[l * pairs + j] = (float)Math.Cos(angle);
                    sin[l * pairs + j] = (float)Math.Sin(angle);
                    j++;
                }
        }
        return (Torch.FromArray<float>(cos, [positions.Length, pairs], device), Torch.FromArray<float>(sin, [positions.Length, pairs], device));
    }

    /// <summary>
    /// Positions of the joint sequence [text; image]: every text token at (0, 0, 0), the image token at patch row r,
    /// column c at (0, r, c).
    /// </summary>
    public static double[][] JointPositions(int textTokens, int patchRows, int patchCols)
    {
        var ids = new double[textTokens + patchRows * patchCols][];
        for (int i = 0; i < textTokens; i++) ids[i] = [0, 0, 0];
        for (int r = 0; r < patchRows; r++)
            for (int c = 0; c < patchCols; c++) ids[textTokens + r * patchCols + c] = [0, r, c];
        return ids;
    }

    /// <summary>Rotates x [B, H, L, D] pairwise by the angles ([L, D/2] each); computed in float32, cast back.</summary>
    public static Tensor Apply(Tensor x, Tensor cos, Tensor sin)
    {
        using var scope = Torch.NewScope();
        long[] shape = x.Shape;
        Tensor xf = x.DType == DType.Float32 ? x : x.To(DType.Float32);
        Tensor pairs = xf.Reshape(shape[0], shape[1], shape[2], shape[3] / 2, 2);
        Tensor a = pairs.Select(-1, 0), b = pairs.Select(-1, 1);
        Tensor rotated = Torch.Stack([a * cos - b * sin, a * sin + b * cos], -1).Reshape(shape);
        if (rotated.DType != x.DType) rotated = rotated.To(x.DType);
        return rotated.MoveToOuterScope();
    }
}
