namespace CharacterGen.Tensors;

/// <summary>
/// Owns every tensor created on this thread while it is the innermost scope, and disposes them together.
/// Scopes nest and are thread-local (like libtorch's grad mode), so a job's tensor work stays on one thread.
/// Keep a result past the scope with <see cref="Tensor.MoveToOuterScope"/>.
/// </summary>
public sealed class DisposeScope : IDisposable
{
    [ThreadStatic] private static DisposeScope? t_current;

    private readonly HashSet<Tensor> _owned = new(ReferenceEqualityComparer.Instance);
    private readonly int _threadId = Environment.CurrentManagedThreadId;
    private bool _disposed;

    internal DisposeScope()
    {
        Outer = t_current;
        t_current = this;
    }

    internal static DisposeScope? Current => t_current;

    internal DisposeScope? Outer { get; }

    /// <summary>Tensors this scope will dispose.</summary>
    public int Count => _owned.Count;

    internal void Adopt(Tensor t)
    {
        if (_disposed) return;
        _owned.Add(t);
        t.Scope = this;
    }

    internal void Release(Tensor t)
    {
        _owned.Remove(t);
        t.Scope = null;
    }

    public void Dispose()
    {
        if (_disposed) return;
        if (Environment.CurrentManagedThreadId != _threadId)
            throw new InvalidOperationException("a DisposeScope must be disposed on the thread that created it");
        _disposed = true;
        foreach (Tensor t in _owned)
        {
            t.Scope = null;
            t.Dispose();
        }
        _owned.Clear();
        // Scopes end in reverse order of creation; if an inner one was left open, unwind past it too.
        if (t_current == this || IsInnerOf(t_current)) t_current = Outer;
    }

    private bool IsInnerOf(DisposeScope? scope)
    {
        for (DisposeScope? s = scope; s is not null; s = s.Outer)
            if (s == this) return true;
        return false;
    }
}
