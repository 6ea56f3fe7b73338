using CharacterGen.Diffusion.Sampling;
using CharacterGen.Nodes.Sampling;
using CharacterGen.Tensors;

namespace CharacterGen.Nodes.Values;

/// <summary>ComfyUI's NOISE (RandomNoise / DisableNoise): how the initial noise of a latent is drawn.</summary>
public sealed record NoiseValue(ulong Seed, bool Disabled = false)
{
    /// <summary>Unit noise shaped like the latent (CPU, float32), or zeros when disabled.</summary>
    public Tensor Generate(LatentValue latent) => Disabled
        ? Noise.Disabled(latent.Samples.Shape)
        : Noise.Prepare(latent.Samples.Shape, Seed, latent.BatchIndex);
}

/// <summary>
/// ComfyUI's GUIDER (CFGGuider, BasicGuider): a model with its conditionings and cfg. It holds its own handles (a
/// shared model lease and aliased conditionings), so it stays valid when the values it was built from are evicted.
/// </summary>
public sealed class GuiderValue : ITensorOwner
{
    public GuiderValue(ModelValue model, ConditioningValue positive, ConditioningValue? negative, double cfg)
    {
        Model = model.Share();
        Positive = positive.Alias();
        Negative = negative?.Alias();
        Cfg = cfg;
    }

    public ModelValue Model { get; }
    public ConditioningValue Positive { get; }
    /// <summary>Null for BasicGuider (no classifier-free guidance).</summary>
    public ConditioningValue? Negative { get; }
    public double Cfg { get; }

    public IGuider CreateGuider(UnetDenoiser denoiser) => Negative is null
        ? new BasicGuider<ConditioningValue>(denoiser, Positive)
        : new CfgGuider<ConditioningValue>(denoiser, Positive, Negative, Cfg);

    public IEnumerable<Tensor> OwnedTensors => Negative is null ? Positive.OwnedTensors : Positive.OwnedTensors.Concat(Negative.OwnedTensors);

    public void Dispose()
    {
        Model.Dispose();
        Positive.Dispose();
        Negative?.Dispose();
    }
}
