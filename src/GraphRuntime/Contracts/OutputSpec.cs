namespace CharacterGen.GraphRuntime.Contracts;

/// <summary>One output slot: ComfyUI's RETURN_TYPES / RETURN_NAMES / OUTPUT_IS_LIST / OUTPUT_TOOLTIPS entry.</summary>
public sealed record OutputSpec(string Type, string Name, bool IsList = false, string? Tooltip = null);
