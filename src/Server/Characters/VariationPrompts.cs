namespace CharacterGen.Server.Characters;

/// <summary>
/// The built-in variation prompts of a training set: poses, framings, expressions and light, so the LoRA learns the
/// character rather than one picture. Custom prompts come first; these fill the rest, in this order, cycling.
/// </summary>
public static class VariationPrompts
{
    public static readonly IReadOnlyList<string> BuiltIn =
    [
        "full body, standing, front view",
        "close up portrait, smiling",
        "side view, walking",
        "sitting, relaxed pose",
        "from behind, looking over the shoulder",
        "upper body, arms crossed",
        "dynamic action pose",
        "three-quarter view, soft light",
        "outdoors, daylight",
        "night, dramatic lighting",
        "looking up, low angle",
        "looking down, high angle",
    ];

    /// <summary>Prompt and seed for each index 0..count-1; seeds follow from <paramref name="firstSeed"/>.</summary>
    public static IReadOnlyList<PlannedImage> Plan(int count, IReadOnlyList<string> custom, long firstSeed) =>
        Enumerable.Range(0, count)
            .Select(i => new PlannedImage(i, i < custom.Count ? custom[i] : BuiltIn[(i - custom.Count) % BuiltIn.Count], firstSeed + i))
            .ToList();
}
