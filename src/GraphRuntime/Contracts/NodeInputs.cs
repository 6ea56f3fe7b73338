using System.Globalization;

namespace CharacterGen.GraphRuntime.Contracts;

/// <summary>
/// The inputs of one node call, by name: declared inputs first (in declaration order), then dynamic
/// extra inputs in JSON key order. Link values are opaque objects; literals are long (INT), double
/// (FLOAT), string (STRING, COMBO) or bool (BOOLEAN). For nodes that take whole lists every value is an
/// <see cref="IReadOnlyList{T}"/> of object?.
/// </summary>
public sealed class NodeInputs
{
    private readonly string[] _names;
    private readonly object?[] _values;
    private readonly bool[] _evaluated;
    private readonly int _declaredCount;

    internal NodeInputs(string[] names, object?[] values, bool[] evaluated, int declaredCount)
    {
        _names = names;
        _values = values;
        _evaluated = evaluated;
        _declaredCount = declaredCount;
    }

    public static NodeInputs Empty { get; } = new([], [], [], 0);

    /// <summary>Inputs built by hand, for calling a node's Execute directly in a unit test.</summary>
    public static NodeInputs From(IEnumerable<KeyValuePair<string, object?>> values)
    {
        var list = values.ToList();
        return new NodeInputs(list.Select(p => p.Key).ToArray(), list.Select(p => p.Value).ToArray(),
            Enumerable.Repeat(true, list.Count).ToArray(), list.Count);
    }

    /// <summary>Names of the inputs that were given (literal or link), in order.</summary>
    public IReadOnlyList<string> Names => _names;

    public int Count => _names.Length;

    public bool Contains(string name) => IndexOf(name) >= 0;

    /// <summary>False for a lazy input that has not been requested yet (its value is null).</summary>
    public bool IsEvaluated(string name)
    {
        var i = IndexOf(name);
        return i >= 0 && _evaluated[i];
    }

    /// <summary>The value, or null when the input was not given.</summary>
    public object? this[string name] => IndexOf(name) is var i and >= 0 ? _values[i] : null;

    /// <summary>The value converted to T; numbers convert between integral and floating types.</summary>
    public T Get<T>(string name)
    {
        var i = IndexOf(name);
        if (i < 0) throw new KeyNotFoundException($"Input '{name}' was not given.");
        return Convert<T>(name, _values[i]);
    }

    public T GetOrDefault<T>(string name, T fallback)
    {
        var i = IndexOf(name);
        return i < 0 || _values[i] is null ? fallback : Convert<T>(name, _values[i]);
    }

    /// <summary>A whole list (for nodes with InputIsList).</summary>
    public IReadOnlyList<object?> GetList(string name) => Get<IReadOnlyList<object?>>(name);

    /// <summary>Dynamic extra inputs (e.g. conditioning2..N) in JSON key order.</summary>
    public IEnumerable<KeyValuePair<string, object?>> Dynamic
    {
        get
        {
            for (var i = _declaredCount; i < _names.Length; i++)
                yield return new(_names[i], _values[i]);
        }
    }

    public IEnumerable<KeyValuePair<string, object?>> All
    {
        get
        {
            for (var i = 0; i < _names.Length; i++)
                yield return new(_names[i], _values[i]);
        }
    }

    private int IndexOf(string name)
    {
        for (var i = 0; i < _names.Length; i++)
            if (string.Equals(_names[i], name, StringComparison.Ordinal)) return i;
        return -1;
    }

    private static T Convert<T>(string name, object? value)
    {
        if (value is T t) return t;
        if (value is IConvertible && typeof(IConvertible).IsAssignableFrom(Nullable.GetUnderlyingType(typeof(T)) ?? typeof(T)))
            return (T)System.Convert.ChangeType(value, Nullable.GetUnderlyingType(typeof(T)) ?? typeof(T), CultureInfo.InvariantCulture);
        throw new InvalidCastException(
            $"Input '{name}' is {value?.GetType().Name ?? "null"}, not {typeof(T).Name}.");
    }
}
