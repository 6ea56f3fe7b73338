namespace CharacterGen.Diffusion.Lora;

/// <summary>A LoRA whose tensors do not fit the model it was applied to (usually a LoRA for another model family).</summary>
public sealed class LoraMismatchException(string message) : Exception(message);
