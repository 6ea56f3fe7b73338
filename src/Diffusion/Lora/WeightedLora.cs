namespace CharacterGen.Diffusion.Lora;

/// <summary>One LoRA of a stack with its strength (strength_model or strength_clip).</summary>
public sealed record WeightedLora(LoraPatches Lora, double Strength)
{
    /// <summary>What identifies the stack entry across jobs: the file content and the strength.</summary>
    public string Key => $"{Lora.Identity}@{Strength.ToString("R", System.Globalization.CultureInfo.InvariantCulture)}";
}
