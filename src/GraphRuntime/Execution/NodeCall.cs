using System.Collections;
using CharacterGen.GraphRuntime.Contracts;

namespace CharacterGen.GraphRuntime.Execution;

/// <summary>
/// ComfyUI's list semantics for one node: called once per list index (shorter lists repeat their
/// last element) unless the node takes whole lists; per-call results merged into one list per output
/// (list outputs concatenated); ui dictionaries merged by key.
/// </summary>
internal static class NodeCall
{
    private static readonly IReadOnlyList<object?>[] NoOutputs = [];

    /// <param name="inputs">Per bound input: its value list, or null for a lazy input not evaluated.</param>
    public static (IReadOnlyList<object?>[] Outputs, IReadOnlyDictionary<string, object?>? Ui) Invoke(
        GraphNode node, NodeContext context, IReadOnlyList<object?>?[] inputs, NodeFunction call)
    {
        var def = node.Definition;
        var count = CallCount(def, inputs);
        var names = Names(node);
        var evaluated = new bool[inputs.Length];
        for (var i = 0; i < inputs.Length; i++) evaluated[i] = inputs[i] is not null;

        if (def.InputIsList)
        {
            var whole = new object?[inputs.Length];
            for (var i = 0; i < inputs.Length; i++) whole[i] = inputs[i];
            var result = Checked(node, call(context, new NodeInputs(names, whole, evaluated, node.DeclaredCount)));
            return (Merge(def, [result]), result.Ui);
        }

        if (count == 0) return (EmptyOutputs(def), null);
        var results = new NodeOutput[count];
        for (var index = 0; index < count; index++)
        {
            context.ThrowIfCancellationRequested();
            context.ListIndex = index;
            results[index] = Checked(node, call(context, new NodeInputs(names, Slice(inputs, index), evaluated, node.DeclaredCount)));
        }
        return (Merge(def, results), MergeUi(results));
    }

    /// <summary>The arguments for the lazy-status hook: the first list index (or whole lists).</summary>
    public static NodeInputs LazyView(GraphNode node, IReadOnlyList<object?>?[] inputs)
    {
        var evaluated = new bool[inputs.Length];
        for (var i = 0; i < inputs.Length; i++) evaluated[i] = inputs[i] is not null;
        object?[] values = node.Definition.InputIsList ? inputs.Cast<object?>().ToArray() : Slice(inputs, 0);
        return new NodeInputs(Names(node), values, evaluated, node.DeclaredCount);
    }

    private static int CallCount(NodeDefinition def, IReadOnlyList<object?>?[] inputs)
    {
        var max = 0;
        var any = false;
        foreach (var list in inputs)
        {
            if (list is null) continue;
            if (list.Count == 0) return 0; // mapping over an empty list calls nothing
            any = true;
            max = Math.Max(max, list.Count);
        }
        return any ? max : 1;
    }

    private static object?[] Slice(IReadOnlyList<object?>?[] inputs, int index)
    {
        var values = new object?[inputs.Length];
        for (var i = 0; i < inputs.Length; i++)
            if (inputs[i] is { Count: > 0 } list) values[i] = list[Math.Min(index, list.Count - 1)];
        return values;
    }

    private static string[] Names(GraphNode node)
    {
        var names = new string[node.Inputs.Length];
        for (var i = 0; i < names.Length; i++) names[i] = node.Inputs[i].Name;
        return names;
    }

    private static NodeOutput Checked(GraphNode node, NodeOutput? output)
    {
        var expected = node.Definition.Outputs.Count;
        if (output is null) throw new InvalidOperationException($"{node.ClassType} returned no NodeOutput.");
        if (output.Values.Count != expected)
            throw new InvalidOperationException($"{node.ClassType} returned {output.Values.Count} values for {expected} outputs.");
        return output;
    }

    private static IReadOnlyList<object?>[] EmptyOutputs(NodeDefinition def)
    {
        if (def.Outputs.Count == 0) return NoOutputs;
        var outputs = new IReadOnlyList<object?>[def.Outputs.Count];
        for (var i = 0; i < outputs.Length; i++) outputs[i] = Array.Empty<object?>();
        return outputs;
    }

    private static IReadOnlyList<object?>[] Merge(NodeDefinition def, NodeOutput[] results)
    {
        if (def.Outputs.Count == 0) return NoOutputs;
        var outputs = new IReadOnlyList<object?>[def.Outputs.Count];
        for (var slot = 0; slot < outputs.Length; slot++)
        {
            if (!def.Outputs[slot].IsList && results.Length == 1)
            {
                outputs[slot] = new[] { results[0].Values[slot] };
                continue;
            }
            var merged = new List<object?>(results.Length);
            foreach (var result in results)
            {
                var value = result.Values[slot];
                if (!def.Outputs[slot].IsList) merged.Add(value);
                else if (value is IEnumerable items and not string) foreach (var item in items) merged.Add(item);
                else throw new InvalidOperationException($"{def.ClassType} output {slot} is a list output but returned {value?.GetType().Name ?? "null"}.");
            }
            outputs[slot] = merged;
        }
        return outputs;
    }

    private static IReadOnlyDictionary<string, object?>? MergeUi(NodeOutput[] results)
    {
        if (results.Length == 1) return results[0].Ui;
        Dictionary<string, object?>? ui = null;
        foreach (var result in results)
        {
            if (result.Ui is null) continue;
            ui ??= new Dictionary<string, object?>(StringComparer.Ordinal);
            foreach (var (key, value) in result.Ui)
            {
                if (!ui.TryGetValue(key, out var existing)) existing = ui[key] = new List<object?>();
                var list = (List<object?>)existing!;
                if (value is IEnumerable items and not string and not IDictionary) foreach (var item in items) list.Add(item);
                else list.Add(value);
            }
        }
        return ui;
    }
}
