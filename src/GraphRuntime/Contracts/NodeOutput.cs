namespace CharacterGen.GraphRuntime.Contracts;

/// <summary>
/// What one node call returns: a value per output slot (an <see cref="IEnumerable{T}"/> for list
/// outputs) and optional <c>ui</c> data (JSON-serialisable) for the job's outputs and events.
/// </summary>
public sealed class NodeOutput
{
    public NodeOutput(IReadOnlyList<object?> values, IReadOnlyDictionary<string, object?>? ui = null)
    {
        Values = values;
        Ui = ui;
    }

    public IReadOnlyList<object?> Values { get; }
    public IReadOnlyDictionary<string, object?>? Ui { get; }

    public static NodeOutput Empty { get; } = new([]);

    public static NodeOutput Of(params object?[] values) => new(values);

    public static NodeOutput WithUi(IReadOnlyDictionary<string, object?> ui, params object?[] values) => new(values, ui);
}
