using CharacterGen.Diffusion.Models.ControlNet;
using CharacterGen.Diffusion.Sampling;
using CharacterGen.Nodes.Values;
using CharacterGen.Tensors;

namespace CharacterGen.Nodes.Sampling;

/// <summary>
/// A MODEL and CONDITIONING values as the guiders' denoiser: <see cref="CondBatchDenoiser"/> (ComfyUI calc_cond_batch)
/// over the model's UNet, with the model's LoRA stack put on the shared weights right before each call and its
/// IP-Adapters patched into every call.
/// </summary>
public sealed class UnetDenoiser(ModelValue model) : IConditionedDenoiser<ConditioningValue>
{
    private readonly CondBatchDenoiser _batch = new(model.PatchedUnet, model.ModelSampling,
    [
        new ControlNetContributor(model.Unet.Config, model.ModelSampling),
        .. model.CallContributors(),
    ]);

    /// <summary>UNet calls made so far (tests check that cond and uncond share one).</summary>
    public int NetworkCalls => _batch.NetworkCalls;

    public Tensor[] Denoise(Tensor x, Tensor sigma, IReadOnlyList<ConditioningValue> conditionings) =>
        _batch.Denoise(x, sigma, conditionings.Select(c => c.Entries).ToList());
}
