using CharacterGen.Tensors;

namespace CharacterGen.Diffusion.Sampling;

/// <summary>
/// A tensor a sampler carries from one step to the next (x, or the previous x̂₀). Each step runs in its own dispose
/// scope; the value it keeps is moved out of that scope and handed to <see cref="Set"/>, which disposes the value it
/// replaces (unless that was borrowed from the caller). Disposing the carry releases what it owns, so a cancelled
/// run leaves nothing behind.
/// </summary>
internal sealed class Carry : IDisposable
{
    private Tensor? _value;
    private bool _owned;

    /// <summary>Starts with a tensor borrowed from the caller (never disposed here), or empty.</summary>
    public Carry(Tensor? borrowed = null) => _value = borrowed;

    public Tensor Value => _value ?? throw new InvalidOperationException("nothing carried yet");

    public bool HasValue => _value is not null;

    /// <summary>Replaces the value with one made inside the current step scope, moving it out of that scope.</summary>
    public void Set(Tensor next)
    {
        next.MoveToOuterScope();
        Tensor? old = _value;
        bool oldOwned = _owned;
        _value = next;
        _owned = true;
        if (oldOwned && !ReferenceEquals(old, next)) old!.Dispose();
    }

    /// <summary>Hands the value to the caller: a borrowed value is cloned so the result is always the caller's own.</summary>
    public Tensor Take()
    {
        Tensor value = Value;
        if (!_owned) return value.Clone();
        _value = null;
        _owned = false;
        return value;
    }

    public void Dispose()
    {
        if (_owned) _value?.Dispose();
        _value = null;
        _owned = false;
    }
}

/// <summary>The last few tensors a multistep sampler keeps (LMS derivatives, UniPC model outputs), oldest first.</summary>
internal sealed class TensorHistory(int capacity) : IDisposable
{
    private readonly List<Tensor> _items = new(capacity + 1);

    public int Count => _items.Count;

    public Tensor this[int index] => _items[index < 0 ? index + _items.Count : index];

    /// <summary>Keeps a tensor made in the current step scope; drops (and disposes) the oldest beyond capacity.</summary>
    public void Push(Tensor t)
    {
        _items.Add(t.DetachFromScope());
        if (_items.Count > capacity)
        {
            _items[0].Dispose();
            _items.RemoveAt(0);
        }
    }

    /// <summary>Replaces the newest entry, disposing it.</summary>
    public void ReplaceLast(Tensor t)
    {
        _items[^1].Dispose();
        _items[^1] = t.DetachFromScope();
    }

    public void Dispose()
    {
        foreach (Tensor t in _items) t.Dispose();
        _items.Clear();
    }
}
