using CharacterGen.Diffusion.Sampling;
using CharacterGen.Tensors;

namespace CharacterGen.Diffusion.Models.Flux;

/// <summary>
/// One FLUX conditioning (ComfyUI's CONDITIONING entry as model_base.Flux reads it): T5 hidden states [B, N, 4096],
/// the pooled CLIP-L output [B, 768] and the distilled guidance (FluxGuidance; null = none, the embedding is skipped).
/// </summary>
public sealed record FluxConditioning(Tensor Context, Tensor Pooled, double? Guidance = FluxConditioning.DefaultGuidance)
{
    /// <summary>ComfyUI model_base.Flux's guidance when no FluxGuidance/CLIPTextEncodeFlux set one.</summary>
    public const double DefaultGuidance = 3.5;
}

/// <summary>
/// The FLUX transformer as the guiders' denoiser (ComfyUI BaseModel.apply_model with CONST sampling): the network sees
/// x unchanged and σ as its timestep, predicts the velocity v, and x̂₀ = x − σ·v. Each conditioning is one network call
/// (text lengths may differ); a conditioning with batch 1 is repeated over the latent's batch.
/// </summary>
public sealed class FluxDenoiser(FluxModel model, IModelSampling modelSampling) : IConditionedDenoiser<FluxConditioning>
{
    public IModelSampling ModelSampling { get; } = modelSampling;

    public Tensor[] Denoise(Tensor x, Tensor sigma, IReadOnlyList<FluxConditioning> conditionings)
    {
        var results = new Tensor[conditionings.Count];
        for (int i = 0; i < conditionings.Count; i++)
        {
            using var scope = Torch.NewScope();
            FluxConditioning c = conditionings[i];
            long b = x.Size(0);
            Tensor context = Batch(c.Context, b), pooled = Batch(c.Pooled, b);
            Tensor? guidance = c.Guidance is double g ? Torch.Full([b], g, DType.Float32, x.Device) : null;
            results[i] = ModelSampling.ApplyModel(x, sigma,
                (input, timestep) => model.Forward(input, timestep, context.To(input.Device), pooled.To(input.Device), guidance))
                .MoveToOuterScope();
        }
        return results;
    }

    private static Tensor Batch(Tensor t, long b)
    {
        if (t.Size(0) == b) return t.Alias();
        if (t.Size(0) != 1) throw new ArgumentException($"a conditioning of batch {t.Size(0)} cannot drive a latent batch of {b}");
        long[] shape = t.Shape;
        shape[0] = b;
        return t.Expand(shape);
    }
}
