using CharacterGen.Diffusion.Lora;
using CharacterGen.Diffusion.Training;
using CharacterGen.Nodes.Values;
using CharacterGen.Tensors;

namespace CharacterGen.Nodes.Training;

/// <summary>ComfyUI's LORA_MODEL: a trained LoRA's tensors in kohya's key format with its ss_* metadata; owns them.</summary>
public sealed class LoraModelValue(TrainedLora lora, string identity) : ITensorOwner
{
    public const string Type = "LORA_MODEL";

    public TrainedLora Lora { get; } = lora;

    /// <summary>Names the weights for the patch cache (the training run's fingerprint).</summary>
    public string Identity { get; } = identity;

    /// <summary>A LoRA file view over the same tensors (new handles), for the LoRA loading path.</summary>
    public LoraFile ToLoraFile()
    {
        using var scope = Torch.NewScope();
        return new LoraFile(Identity, Lora.Tensors.Select(t => new KeyValuePair<string, Tensor>(t.Key, t.Value.Alias())));
    }

    public IEnumerable<Tensor> OwnedTensors => Lora.Tensors.Select(t => t.Value);

    public void Dispose() => Lora.Dispose();

    public override string ToString() => $"LoraModel({Lora.Tensors.Count} tensors, {Lora.Steps} steps)";
}

/// <summary>ComfyUI's LOSS_MAP: {"loss": [one value per optimizer step]}.</summary>
public sealed record LossMapValue(IReadOnlyList<double> Loss)
{
    public const string Type = "LOSS_MAP";
}
