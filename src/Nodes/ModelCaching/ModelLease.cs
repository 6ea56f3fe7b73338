namespace CharacterGen.Nodes.ModelCaching;

/// <summary>
/// A loaded model shared by reference count: the <see cref="ModelCache"/> holds one reference while the model is
/// cached, and every MODEL/CLIP/VAE value holds one through a <see cref="ModelLease{T}"/>. The weights are disposed
/// when the last reference goes, so unloading never pulls weights from under a value that is still in use.
/// </summary>
internal sealed class SharedModel<T>(T model, string path) where T : class, IDisposable
{
    private readonly object _gate = new();
    private int _references = 1; // the cache's own

    public T Model { get; } = model;
    public string Path { get; } = path;

    /// <summary>False once the weights have been disposed.</summary>
    public bool IsAlive
    {
        get { lock (_gate) return _references > 0; }
    }

    public ModelLease<T> Acquire()
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_references == 0, this);
            _references++;
        }
        return new ModelLease<T>(this);
    }

    public void Release()
    {
        bool last;
        lock (_gate) last = --_references == 0;
        if (last) Model.Dispose();
    }
}

/// <summary>One reference to a shared model; disposing it releases the reference (not the weights, unless it was the last).</summary>
public sealed class ModelLease<T> : IDisposable where T : class, IDisposable
{
    private SharedModel<T>? _shared;

    internal ModelLease(SharedModel<T> shared) => _shared = shared;

    /// <summary>The only reference to a model no cache holds (it is disposed with the last lease).</summary>
    internal static ModelLease<T> Sole(T model, string path)
    {
        var shared = new SharedModel<T>(model, path);
        ModelLease<T> lease = shared.Acquire();
        shared.Release(); // drop the reference a cache would hold
        return lease;
    }

    public T Value => (_shared ?? throw new ObjectDisposedException(nameof(ModelLease<T>))).Model;

    /// <summary>The file the model was loaded from.</summary>
    public string Path => (_shared ?? throw new ObjectDisposedException(nameof(ModelLease<T>))).Path;

    /// <summary>Another reference to the same model.</summary>
    public ModelLease<T> Share() => (_shared ?? throw new ObjectDisposedException(nameof(ModelLease<T>))).Acquire();

    public void Dispose() => Interlocked.Exchange(ref _shared, null)?.Release();
}
