using CharacterGen.Diffusion.Checkpoints;
using CharacterGen.Diffusion.Models.Unet;
using CharacterGen.Diffusion.Sampling;

namespace CharacterGen.Diffusion.Models.ControlNet;

/// <summary>
/// Adds the ControlNet residuals of each batched UNet call: the rows of one call share their entries' control chain
/// (the denoiser batches only entries with the same chain), so the chain of the first entry runs for the whole batch.
/// A chain whose nets do not fit the UNet (an SD1.x ControlNet on an SDXL model, or the reverse) is refused naming both.
/// </summary>
public sealed class ControlNetContributor(UnetConfig unet, IModelSampling modelSampling) : IUnetCallContributor
{
    private readonly HashSet<ControlChain> _checked = new(ReferenceEqualityComparer.Instance);

    public void Contribute(UnetBatch batch, UnetCallBuilder call)
    {
        if (batch.Entries.Count == 0 || batch.Entries[0].Control is not { } chain) return;
        if (_checked.Add(chain))
            foreach (ControlChain link in chain.Links())
                if (!ControlNetLayout.Fits(link.Net.Model.Config, unet))
                    throw new CheckpointLoadException(
                        $"ControlNet '{link.Net.FileName}' is an {ControlNetLayout.Describe(link.Net.Model.Config)} ControlNet, "
                        + $"but the model is an {ControlNetLayout.Describe(unet)} UNet: use a ControlNet made for this model family");
        if (chain.Residuals(batch, modelSampling) is { } residuals) call.AddControl(residuals);
    }
}
