using CharacterGen.GraphRuntime.Contracts;

namespace CharacterGen.Nodes.Runtime;

/// <summary>Typed access to linked inputs, with a message that says what arrived instead.</summary>
internal static class InputValues
{
    /// <summary>The linked value of <paramref name="name"/> as <typeparamref name="T"/>.</summary>
    public static T Value<T>(this NodeInputs inputs, string name) where T : class =>
        inputs[name] as T ?? throw new InvalidOperationException(inputs[name] is null
            ? $"input '{name}' is empty: the node it comes from produced nothing there (e.g. a checkpoint without that part)"
            : $"input '{name}' is a {inputs[name]!.GetType().Name}, not a {typeof(T).Name}");

    /// <summary>A seed literal (INT within 0..2^64−1; the runtime delivers it as a long).</summary>
    public static ulong Seed(this NodeInputs inputs, string name) => inputs[name] switch
    {
        ulong u => u,
        long l => unchecked((ulong)l),
        var v => Convert.ToUInt64(v, System.Globalization.CultureInfo.InvariantCulture),
    };

    public static int Int(this NodeInputs inputs, string name) => checked((int)inputs.Get<long>(name));
}
