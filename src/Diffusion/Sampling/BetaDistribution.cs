namespace CharacterGen.Diffusion.Sampling;

/// <summary>
/// The Beta(α, β) distribution's CDF (the regularized incomplete beta function Iₓ(α, β)) and its inverse, in double
/// precision, for the "beta" scheduler (scipy.stats.beta.ppf there).
/// </summary>
public static class BetaDistribution
{
    /// <summary>Iₓ(a, b) = P(X ≤ x) for X ~ Beta(a, b).</summary>
    public static double Cdf(double x, double a, double b)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(a);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(b);
        if (double.IsNaN(x)) return double.NaN;
        if (x <= 0) return 0;
        if (x >= 1) return 1;
        double logFront = a * Math.Log(x) + b * Math.Log(1 - x) - LogBeta(a, b);
        // The continued fraction converges fast for x below the mean-ish point; use the symmetry
        // Iₓ(a, b) = 1 − I₁₋ₓ(b, a) above it (Numerical Recipes §6.4).
        if (x < (a + 1) / (a + b + 2))
            return Math.Exp(logFront) * ContinuedFraction(x, a, b) / a;
        return 1 - Math.Exp(logFront) * ContinuedFraction(1 - x, b, a) / b;
    }

    /// <summary>The quantile function (percent point function): the x with Iₓ(a, b) = p.</summary>
    public static double Ppf(double p, double a, double b)
    {
        if (double.IsNaN(p) || p < 0 || p > 1) return double.NaN;
        if (p == 0) return 0;
        if (p == 1) return 1;
        // A symmetric distribution has its median exactly at 1/2 (the beta scheduler rounds 0.5 · 999 half to even,
        // so this matters), and its upper quantiles mirror the lower ones.
        if (a == b)
        {
            if (p == 0.5) return 0.5;
            if (p > 0.5) return 1 - Ppf(1 - p, a, b);
        }
        // The CDF is continuous and strictly increasing on [0, 1]: bisect until the bracket stops shrinking. About 60
        // halvings reach the resolution of a double; each costs one continued-fraction evaluation.
        double lo = 0, hi = 1;
        for (int i = 0; i < 200; i++)
        {
            double mid = 0.5 * (lo + hi);
            if (mid <= lo || mid >= hi) break;
            if (Cdf(mid, a, b) < p) lo = mid;
            else hi = mid;
        }
        return 0.5 * (lo + hi);
    }

    /// <summary>ln B(a, b) = ln Γ(a) + ln Γ(b) − ln Γ(a + b).</summary>
    public static double LogBeta(double a, double b) => LogGamma(a) + LogGamma(b) - LogGamma(a + b);

    /// <summary>ln Γ(x) for x &gt; 0, Lanczos approximation (g = 7, 9 terms), about 15 significant digits.</summary>
    public static double LogGamma(double x)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(x);
        if (x < 0.5)
            return Math.Log(Math.PI / Math.Sin(Math.PI * x)) - LogGamma(1 - x); // reflection formula
        x -= 1;
        double sum = LanczosCoefficients[0];
        for (int i = 1; i < LanczosCoefficients.Length; i++) sum += LanczosCoefficients[i] / (x + i);
        double t = x + LanczosG + 0.5;
        return 0.5 * Math.Log(2 * Math.PI) + (x + 0.5) * Math.Log(t) - t + Math.Log(sum);
    }

    private const double LanczosG = 7;

    private static readonly double[] LanczosCoefficients =
    [
        0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
        12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
    ];

    // Continued fraction for Iₓ(a, b) (Abramowitz & Stegun 26.5.8), evaluated with the modified Lentz method.
    private static double ContinuedFraction(double x, double a, double b)
    {
        const double Tiny = 1e-300, Eps = 1e-16;
        double qab = a + b, qap = a + 1, qam = a - 1;
        double c = 1, d = 1 - qab * x / qap;
        if (Math.Abs(d) < Tiny) d = Tiny;
        d = 1 / d;
        double h = d;
        for (int m = 1; m <= 1000; m++)
        {
            int m2 = 2 * m;
            double aa = m * (b - m) * x / ((qam + m2) * (a + m2));
            d = 1 + aa * d;
            if (Math.Abs(d) < Tiny) d = Tiny;
            c = 1 + aa / c;
            if (Math.Abs(c) < Tiny) c = Tiny;
            d = 1 / d;
            h *= d * c;
            aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
            d = 1 + aa * d;
            if (Math.Abs(d) < Tiny) d = Tiny;
            c = 1 + aa / c;
            if (Math.Abs(c) < Tiny) c = Tiny;
            d = 1 / d;
            double delta = d * c;
            h *= delta;
            if (Math.Abs(delta - 1) < Eps) break;
        }
        return h;
    }
}
