using CharacterGen.Tensors;
using CharacterGen.Tensors.Nn;

namespace CharacterGen.Diffusion.Lora;

/// <summary>
/// Applies an ordered LoRA stack to one network's weights in place, and undoes it exactly. Each patched weight is
/// backed up (bit-exact copy) the first time it changes; a new stack first copies every backup back, so switching
/// stacks, or going back to none, never re-reads the checkpoint. The patch math runs in float32 on the weight's
/// device: W' = cast(W + Σ strength·alpha/rank·up@down). The active stack is remembered, so asking for the same one
/// again costs nothing. Not thread-safe: call it from the tensor worker that runs the network.
/// </summary>
public sealed class WeightPatcher(Module module, LoraTarget target) : IDisposable
{
    private readonly Dictionary<string, Tensor> _backups = new(StringComparer.Ordinal);
    private Dictionary<string, Parameter>? _parameters;
    private string _activeKey = "";

    public LoraTarget Target { get; } = target;

    /// <summary>How many times weights were patched or restored (tests check that a repeated stack is free).</summary>
    public int Changes { get; private set; }

    /// <summary>Weights currently differing from the originals (and so backed up).</summary>
    public int PatchedCount => _backups.Count;

    /// <summary>Makes the weights equal the originals plus <paramref name="stack"/> (empty: the originals).</summary>
    public void Apply(IReadOnlyList<WeightedLora> stack)
    {
        string key = string.Join("\n", stack.Select(s => s.Key));
        if (key == _activeKey) return;
        Restore();
        _parameters ??= module.NamedParameters().ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal);
        var byWeight = new Dictionary<string, List<(LoraPatch Patch, double Strength)>>(StringComparer.Ordinal);
        foreach (WeightedLora entry in stack)
            foreach (LoraPatch p in entry.Lora.For(Target))
            {
                if (!byWeight.TryGetValue(p.ParameterName, out var list)) byWeight[p.ParameterName] = list = [];
                list.Add((p, entry.Strength));
            }
        foreach (var (name, patches) in byWeight)
        {
            Parameter parameter = _parameters.TryGetValue(name, out var found) ? found
                : throw new InvalidOperationException($"LoRA patch for unknown weight {name}");
            Tensor weight = parameter.Value;
            using var scope = Torch.NewScope();
            _backups[name] = weight.Clone().DetachFromScope();
            Tensor sum = weight.To(DType.Float32).Clone();
            foreach (var (patch, strength) in patches) patch.AddTo(sum, strength);
            weight.Copy_(sum);
        }
        _activeKey = key;
        if (byWeight.Count > 0) Changes++;
    }

    /// <summary>Copies the original weights back and drops the backups.</summary>
    public void Restore()
    {
        if (_backups.Count > 0)
        {
            _parameters ??= module.NamedParameters().ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal);
            foreach (var (name, backup) in _backups)
            {
                _parameters[name].Value.Copy_(backup);
                backup.Dispose();
            }
            _backups.Clear();
            Changes++;
        }
        _activeKey = "";
    }

    /// <summary>Drops the backups without restoring (the module is going away with them).</summary>
    public void Dispose()
    {
        foreach (Tensor t in _backups.Values) t.Dispose();
        _backups.Clear();
    }
}
