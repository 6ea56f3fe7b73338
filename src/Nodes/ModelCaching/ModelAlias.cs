namespace CharacterGen.Nodes.ModelCaching;

/// <summary>A LoRA an alias applies: a name inside loras/ and its strengths (1.0 each by default, as LoraLoader).</summary>
public sealed record AliasLora
{
    public string Name { get; init; } = "";
    public double StrengthModel { get; init; } = 1.0;
    public double StrengthClip { get; init; } = 1.0;
}

/// <summary>
/// One alias as configured (the alias name is its key): a checkpoint inside checkpoints/ and LoRAs applied in order.
/// Bound from the server's configuration and read from a models tree's aliases.json.
/// </summary>
public sealed record ModelAliasSettings
{
    public string Checkpoint { get; init; } = "";
    public List<AliasLora> Loras { get; init; } = [];
}

/// <summary>A named checkpoint plus LoRAs, offered by the checkpoint loaders beside the checkpoint files.</summary>
public sealed record ModelAlias(string Name, string Checkpoint, IReadOnlyList<AliasLora> Loras);
