using CharacterGen.Diffusion.Sampling;
using CharacterGen.Tensors;

namespace CharacterGen.Diffusion.Tests.Sampling;

/// <summary>
/// The analytic denoiser of the fixture: every element of x₀ ~ N(μ, s²), so E[x₀ | x = x₀ + σε] =
/// (x·s² + μ·σ²) / (s² + σ²), in float64.
/// </summary>
internal sealed class ToyModel : IDisposable
{
    public ToyModel()
    {
        Mu = SamplingFixture.Tensor("toy.mu").DetachFromScope();
        XInit = SamplingFixture.Tensor("toy.x_init").DetachFromScope();
        Sigmas = new Sigmas(SamplingFixture.Floats("toy.sigmas"));
        S = double.Parse(SamplingFixture.Meta("toy.s"), System.Globalization.CultureInfo.InvariantCulture);
        Seed = ulong.Parse(SamplingFixture.Meta("toy.seed"), System.Globalization.CultureInfo.InvariantCulture);
    }

    public Tensor Mu { get; }
    public Tensor XInit { get; }
    public Sigmas Sigmas { get; }
    public double S { get; }
    public ulong Seed { get; }
    public int Calls { get; private set; }

    public Tensor Denoise(Tensor x, double sigma)
    {
        Calls++;
        using var scope = Torch.NewScope();
        double s2 = S * S, v = sigma * sigma;
        return ((x * s2).Add(Mu, v) / (s2 + v)).MoveToOuterScope();
    }

    public void Dispose()
    {
        Mu.Dispose();
        XInit.Dispose();
    }
}
