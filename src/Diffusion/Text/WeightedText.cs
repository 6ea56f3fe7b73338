namespace CharacterGen.Diffusion.Text;

/// <summary>A run of prompt text and the weight ComfyUI's parentheses give it.</summary>
public readonly record struct WeightedText(string Text, double Weight);
