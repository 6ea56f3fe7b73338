using CharacterGen.Tensors;

namespace CharacterGen.Diffusion.Sampling;

public static partial class Samplers
{
    // k-diffusion sample_lms (order 4): linear multistep over the last derivatives, with weights from integrating the
    // Lagrange basis polynomials through the previous σs over [σ_i, σ_{i+1}]; the last step to σ = 0 is x = x̂₀.
    public static Tensor Lms(Denoiser model, Tensor input, Sigmas sigmas, SamplerContext ctx)
    {
        const int Order = 4;
        using var x = new Carry(input);
        using var ds = new TensorHistory(Order);
        double[] t = sigmas.ToArray();
        for (int i = 0; i < sigmas.Steps; i++)
        {
            using var scope = Torch.NewScope();
            double sigma = t[i];
            Tensor denoised = model(x.Value, sigma);
            ds.Push(ToD(x.Value, sigma, denoised));
            ctx.Report(i, sigmas.Steps, x.Value, denoised);
            if (t[i + 1] == 0)
            {
                x.Set(denoised);
                continue;
            }
            int order = Math.Min(i + 1, Order);
            Tensor next = x.Value;
            for (int j = 0; j < order; j++) next = next.Add(ds[-1 - j], LinearMultistepCoefficient(order, t, i, j));
            x.Set(next);
        }
        return x.Take();
    }

    /// <summary>
    /// ∫ over [t_i, t_{i+1}] of the Lagrange basis polynomial of node t_{i−j} through t_i … t_{i−order+1}. The integrand
    /// has degree order − 1 ≤ 3, so 3-point Gauss–Legendre quadrature is exact.
    /// </summary>
    internal static double LinearMultistepCoefficient(int order, double[] t, int i, int j)
    {
        if (order - 1 > i) throw new ArgumentException($"order {order} is too high for step {i}");
        double Basis(double tau)
        {
            double product = 1;
            for (int k = 0; k < order; k++)
            {
                if (k == j) continue;
                product *= (tau - t[i - k]) / (t[i - j] - t[i - k]);
            }
            return product;
        }
        double a = t[i], b = t[i + 1], half = (b - a) / 2, mid = (a + b) / 2;
        double node = Math.Sqrt(3.0 / 5.0);
        return half * (5.0 / 9.0 * Basis(mid - half * node) + 8.0 / 9.0 * Basis(mid) + 5.0 / 9.0 * Basis(mid + half * node));
    }
}
