namespace CharacterGen.GraphRuntime.Execution;

/// <summary>
/// Node outputs by input signature, least recently used first out. Values may be IDisposable (GPU
/// tensors): an evicted value is disposed unless another live entry holds the same object.
/// Not thread-safe: the engine touches it only from the execution thread.
/// </summary>
public sealed class OutputCache
{
    private readonly Dictionary<CacheKey, LinkedListNode<Entry>> _entries = new();
    private readonly LinkedList<Entry> _lru = new(); // first = most recently used
    private readonly Dictionary<object, int> _holders = new(ReferenceEqualityComparer.Instance);

    public OutputCache(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(capacity);
        Capacity = capacity;
    }

    /// <summary>The most entries kept after <see cref="Trim"/> (0 = keep nothing between jobs).</summary>
    public int Capacity { get; }

    public int Count => _entries.Count;

    /// <summary>One node's outputs: a list per output slot, and its ui data.</summary>
    public sealed record Entry(CacheKey Key, IReadOnlyList<object?>[] Outputs, IReadOnlyDictionary<string, object?>? Ui);

    public bool TryGet(CacheKey key, out Entry entry)
    {
        if (_entries.TryGetValue(key, out var node))
        {
            _lru.Remove(node);
            _lru.AddFirst(node);
            entry = node.Value;
            return true;
        }
        entry = null!;
        return false;
    }

    public bool Contains(CacheKey key) => _entries.ContainsKey(key);

    /// <summary>Stores an entry (replacing one with the same key). Eviction waits for <see cref="Trim"/>.</summary>
    public void Put(CacheKey key, IReadOnlyList<object?>[] outputs, IReadOnlyDictionary<string, object?>? ui)
    {
        if (_entries.TryGetValue(key, out var existing)) Remove(existing);
        var node = _lru.AddFirst(new Entry(key, outputs, ui));
        _entries[key] = node;
        ForEachDisposable(node.Value, v => _holders[v] = _holders.GetValueOrDefault(v) + 1);
    }

    /// <summary>True when a live entry holds this object.</summary>
    public bool Holds(object value) => _holders.ContainsKey(value);

    /// <summary>Evicts least recently used entries down to <see cref="Capacity"/>. Called between jobs.</summary>
    public void Trim()
    {
        while (_entries.Count > Capacity) Remove(_lru.Last!);
    }

    /// <summary>Evicts everything (ComfyUI's /free with free_memory).</summary>
    public void Clear()
    {
        while (_lru.Last is { } last) Remove(last);
    }

    private void Remove(LinkedListNode<Entry> node)
    {
        _lru.Remove(node);
        _entries.Remove(node.Value.Key);
        var release = new List<IDisposable>();
        ForEachDisposable(node.Value, v =>
        {
            var count = _holders[v] - 1;
            if (count > 0) _holders[v] = count;
            else
            {
                _holders.Remove(v);
                release.Add((IDisposable)v);
            }
        });
        foreach (var d in release) DisposeQuietly(d);
    }

    /// <summary>Visits each distinct IDisposable value of an entry once.</summary>
    private static void ForEachDisposable(Entry entry, Action<object> visit)
    {
        HashSet<object>? seen = null;
        foreach (var slot in entry.Outputs)
            foreach (var value in slot)
                if (value is IDisposable && (seen ??= new(ReferenceEqualityComparer.Instance)).Add(value))
                    visit(value);
    }

    internal static void DisposeQuietly(IDisposable value)
    {
        try { value.Dispose(); }
        catch (Exception) { /* a failing Dispose must not take the engine down */ }
    }
}
