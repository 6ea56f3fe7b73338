using System.Collections;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace CharacterGen.GraphRuntime.Contracts;

/// <summary>
/// A node's literal (non-link) inputs after conversion, as given to the validation, cost and
/// fingerprint hooks (ComfyUI passes linked inputs to VALIDATE_INPUTS / IS_CHANGED as None; here
/// they are simply absent).
/// </summary>
public sealed class LiteralInputs : IReadOnlyDictionary<string, object?>
{
    private readonly IReadOnlyDictionary<string, object?> _values;

    public LiteralInputs(IReadOnlyDictionary<string, object?> values, IServiceProvider services)
    {
        _values = values;
        Services = services;
    }

    public IServiceProvider Services { get; }

    public T Get<T>(string name) => TryGetValue(name, out var v) && v is not null
        ? v is T t ? t : (T)Convert.ChangeType(v, typeof(T), CultureInfo.InvariantCulture)
        : throw new KeyNotFoundException($"Literal input '{name}' was not given.");

    public T GetOrDefault<T>(string name, T fallback) =>
        TryGetValue(name, out var v) && v is not null
            ? v is T t ? t : (T)Convert.ChangeType(v, typeof(T), CultureInfo.InvariantCulture)
            : fallback;

    public object? this[string key] => _values[key];
    public IEnumerable<string> Keys => _values.Keys;
    public IEnumerable<object?> Values => _values.Values;
    public int Count => _values.Count;
    public bool ContainsKey(string key) => _values.ContainsKey(key);
    public bool TryGetValue(string key, [MaybeNullWhen(false)] out object? value) => _values.TryGetValue(key, out value);
    public IEnumerator<KeyValuePair<string, object?>> GetEnumerator() => _values.GetEnumerator();
    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
