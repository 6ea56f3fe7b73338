namespace CharacterGen.Tensors.Nn;

/// <summary>
/// A named weight slot of a module: its expected shape, and its value once loaded or initialised. Modules are built
/// from a configuration first and filled afterwards, so a checkpoint is read straight into the final tensors.
/// </summary>
public sealed class Parameter(long[] shape, bool optional = false)
{
    private Tensor? _value;

    public long[] Shape { get; } = shape;

    /// <summary>An optional parameter (e.g. a bias some checkpoints omit) may stay unset.</summary>
    public bool Optional { get; } = optional;

    public bool IsSet => _value is not null;

    /// <summary>The tensor; throws if the parameter was never loaded.</summary>
    public Tensor Value => _value ?? throw new InvalidOperationException("parameter has not been loaded or initialised");

    /// <summary>The tensor, or null for an unset optional parameter.</summary>
    public Tensor? ValueOrNull => _value;

    /// <summary>Replaces the value (disposing the old one). The module owns it from now on.</summary>
    public void Set(Tensor value)
    {
        if (!value.Shape.AsSpan().SequenceEqual(Shape))
            throw new ArgumentException($"shape [{string.Join(", ", value.Shape)}] does not match the expected [{string.Join(", ", Shape)}]");
        value.DetachFromScope();
        if (!ReferenceEquals(_value, value)) _value?.Dispose();
        _value = value;
    }

    /// <summary>Disposes the value and leaves the slot unset.</summary>
    public void Clear()
    {
        _value?.Dispose();
        _value = null;
    }
}
