using CharacterGen.Tensors;

namespace CharacterGen.Diffusion.Sampling;

// UniPC (Zhao et al. 2023, "UniPC: A Unified Predictor-Corrector Framework for Fast Sampling of Diffusion Models"),
// multistep, data prediction, B(h) = h (bh1) or eᵸ − 1 (bh2), order min(3, steps − 1) lowered at the end, as ComfyUI's
// extra_samplers/uni_pc.py runs it. ComfyUI works in variance-preserving scaling and divides by α at the end; the
// same updates are written here directly in k-diffusion scaling (x_vp = x/√(1+σ²)), with λ = −ln σ.
public static partial class Samplers
{
    public static Tensor UniPC(Denoiser model, Tensor input, Sigmas sigmas, SamplerContext ctx) =>
        UniPCSample(model, input, sigmas, ctx, bh2: false);

    public static Tensor UniPCBh2(Denoiser model, Tensor input, Sigmas sigmas, SamplerContext ctx) =>
        UniPCSample(model, input, sigmas, ctx, bh2: true);

    private static Tensor UniPCSample(Denoiser model, Tensor input, Sigmas sigmas, SamplerContext ctx, bool bh2)
    {
        int steps = sigmas.Steps;
        if (steps == 0) return input.Clone();
        // A final σ = 0 becomes 0.001 (ComfyUI sample_unipc): the last update lands just above zero noise.
        double[] ts = sigmas.ToArray();
        if (ts[^1] == 0) ts[^1] = (float)0.001;
        int order = Math.Min(3, steps - 1);

        using var x = new Carry(input);
        using var modelPrev = new TensorHistory(Math.Max(order, 1));
        var tPrev = new List<double>();
        for (int stepIndex = 0; stepIndex < steps; stepIndex++)
        {
            using var scope = Torch.NewScope();
            if (stepIndex == 0)
            {
                modelPrev.Push(model(x.Value, ts[0]));
                tPrev.Add(ts[0]);
                if (steps == 1)
                {
                    // ComfyUI (order 0) returns the input unchanged here; take one first-order step instead.
                    ctx.Report(0, steps, x.Value, modelPrev[-1]);
                    x.Set(UniPCUpdate(model, x.Value, modelPrev, tPrev, ts[1], 1, bh2, useCorrector: false).X);
                    break;
                }
            }
            else if (stepIndex < order)
            {
                var (next, modelX) = UniPCUpdate(model, x.Value, modelPrev, tPrev, ts[stepIndex], stepIndex, bh2, useCorrector: true);
                x.Set(next);
                modelPrev.Push(modelX!);
                tPrev.Add(ts[stepIndex]);
            }
            else
            {
                int last = stepIndex == steps - 1 ? stepIndex + 1 : stepIndex;
                for (int step = stepIndex; step <= last; step++)
                {
                    int stepOrder = Math.Min(order, steps + 1 - step); // lower_order_final
                    bool useCorrector = step != steps;
                    var (next, modelX) = UniPCUpdate(model, x.Value, modelPrev, tPrev, ts[step], stepOrder, bh2, useCorrector);
                    x.Set(next);
                    if (step < steps)
                    {
                        modelPrev.Push(modelX!);
                        tPrev.Add(ts[step]);
                        if (tPrev.Count > order) tPrev.RemoveAt(0);
                    }
                }
            }
            ctx.Report(stepIndex, steps, x.Value, modelPrev[-1]);
        }
        return x.Take();
    }

    // One UniPC-bh predictor step from the newest previous point to σ = t, followed (optionally) by the corrector,
    // which evaluates the model at the predicted x and returns that evaluation for reuse as the next step's history.
    private static (Tensor X, Tensor? ModelX) UniPCUpdate(Denoiser model, Tensor x, TensorHistory modelPrev,
        List<double> tPrev, double t, int order, bool bh2, bool useCorrector)
    {
        double sigmaPrev0 = tPrev[^1];
        Tensor m0 = modelPrev[-1];
        double lambdaPrev0 = -Math.Log(sigmaPrev0), lambdaT = -Math.Log(t);
        double h = lambdaT - lambdaPrev0;

        var rks = new double[order];
        var d1s = new Tensor[order - 1];
        for (int i = 1; i < order; i++)
        {
            double rk = (-Math.Log(tPrev[^(i + 1)]) - lambdaPrev0) / h;
            rks[i - 1] = rk;
            d1s[i - 1] = (modelPrev[-(i + 1)] - m0) / rk;
        }
        rks[order - 1] = 1;

        double hh = -h; // data prediction
        double hPhi1 = Expm1(hh);
        double bH = bh2 ? Expm1(hh) : hh;
        var r = new double[order, order];
        var b = new double[order];
        double hPhiK = Expm1(hh) / hh - 1, factorial = 1;
        for (int i = 1; i <= order; i++)
        {
            for (int k = 0; k < order; k++) r[i - 1, k] = Math.Pow(rks[k], i - 1);
            b[i - 1] = hPhiK * factorial / bH;
            factorial *= i + 1;
            hPhiK = hPhiK / hh - 1 / factorial;
        }

        Tensor xBase = (x * (t / sigmaPrev0)).Add(m0, -hPhi1);
        Tensor predicted = xBase;
        if (d1s.Length > 0)
        {
            double[] rhosP = order == 2 ? [0.5] : SolveLinear(r, b, order - 1);
            for (int k = 0; k < d1s.Length; k++) predicted = predicted.Add(d1s[k], -bH * rhosP[k]);
        }
        if (!useCorrector) return (predicted, null);

        double[] rhosC = order == 1 ? [0.5] : SolveLinear(r, b, order);
        Tensor modelT = model(predicted, t);
        Tensor corrected = xBase;
        for (int k = 0; k < d1s.Length; k++) corrected = corrected.Add(d1s[k], -bH * rhosC[k]);
        corrected = corrected.Add(modelT - m0, -bH * rhosC[order - 1]);
        return (corrected, modelT);
    }

    /// <summary>Solves the leading n×n block of A·x = b by Gaussian elimination with partial pivoting.</summary>
    internal static double[] SolveLinear(double[,] a, double[] b, int n)
    {
        var m = new double[n, n + 1];
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < n; j++) m[i, j] = a[i, j];
            m[i, n] = b[i];
        }
        for (int col = 0; col < n; col++)
        {
            int pivot = col;
            for (int row = col + 1; row < n; row++)
                if (Math.Abs(m[row, col]) > Math.Abs(m[pivot, col])) pivot = row;
            if (m[pivot, col] == 0) throw new InvalidOperationException("singular UniPC system");
            if (pivot != col)
                for (int j = col; j <= n; j++) (m[col, j], m[pivot, j]) = (m[pivot, j], m[col, j]);
            for (int row = col + 1; row < n; row++)
            {
                double f = m[row, col] / m[col, col];
                for (int j = col; j <= n; j++) m[row, j] -= f * m[col, j];
            }
        }
        var result = new double[n];
        for (int i = n - 1; i >= 0; i--)
        {
            double s = m[i, n];
            for (int j = i + 1; j < n; j++) s -= m[i, j] * result[j];
            result[i] = s / m[i, i];
        }
        return result;
    }
}
