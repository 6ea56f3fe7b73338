using CharacterGen.Diffusion.Conditioning;
using CharacterGen.Tensors;

namespace CharacterGen.Nodes.Values;

/// <summary>ComfyUI's CONDITIONING: a list of entries, sampled together and averaged by area weight.</summary>
public sealed class ConditioningValue(IEnumerable<ConditioningEntry> entries) : ITensorOwner
{
    public IReadOnlyList<ConditioningEntry> Entries { get; } = entries.ToArray();

    public int Count => Entries.Count;

    /// <summary>A copy holding new handles (for values that keep a conditioning, such as a GUIDER).</summary>
    public ConditioningValue Alias() => new(Entries.Select(e => e.Alias()));

    public IEnumerable<Tensor> OwnedTensors =>
        Entries.SelectMany(e => e.Pooled is null ? new[] { e.Cond } : [e.Cond, e.Pooled]);

    public void Dispose()
    {
        foreach (ConditioningEntry e in Entries)
        {
            e.Cond.Dispose();
            e.Pooled?.Dispose();
            e.Control?.Dispose();
        }
    }

    public override string ToString() =>
        $"Conditioning[{string.Join(", ", Entries.Select(e => string.Join("x", e.Cond.Shape)))}]";
}
