using System.Text.Json;
using System.Text.Json.Nodes;

namespace CharacterGen.GraphRuntime.Contracts;

/// <summary>The node classes an engine knows, by class_type, in registration order. Immutable.</summary>
public sealed class NodeCatalog
{
    private readonly Dictionary<string, NodeDefinition> _byClass;
    private readonly NodeDefinition[] _ordered;

    public NodeCatalog(IEnumerable<NodeDefinition> definitions)
    {
        _ordered = definitions.ToArray();
        _byClass = new Dictionary<string, NodeDefinition>(StringComparer.Ordinal);
        foreach (var def in _ordered)
            if (!_byClass.TryAdd(def.ClassType, def))
                throw new ArgumentException($"Node class '{def.ClassType}' is registered twice.", nameof(definitions));
    }

    public static NodeCatalog Empty { get; } = new([]);

    public IReadOnlyList<NodeDefinition> Definitions => _ordered;

    public int Count => _ordered.Length;

    public bool Contains(string classType) => _byClass.ContainsKey(classType);

    public NodeDefinition? Find(string classType) => _byClass.GetValueOrDefault(classType);

    /// <summary>A new catalogue with these definitions added (a composition step).</summary>
    public NodeCatalog With(IEnumerable<NodeDefinition> more) => new(_ordered.Concat(more));

    public NodeCatalog With(params NodeDefinition[] more) => With((IEnumerable<NodeDefinition>)more);

    /// <summary>GET /object_info: every class, keyed by class_type.</summary>
    public JsonObject ObjectInfo()
    {
        var all = new JsonObject();
        foreach (var def in _ordered) all[def.ClassType] = Contracts.ObjectInfo.Describe(def);
        return all;
    }

    /// <summary>GET /object_info/{class}: <c>{class: info}</c>, or <c>{}</c> for an unknown class.</summary>
    public JsonObject ObjectInfo(string classType) =>
        Find(classType) is { } def ? new JsonObject { [classType] = Contracts.ObjectInfo.Describe(def) } : new JsonObject();

    public string ObjectInfoJson(bool indented = false) =>
        ObjectInfo().ToJsonString(new JsonSerializerOptions { WriteIndented = indented });

    public string ObjectInfoJson(string classType, bool indented = false) =>
        ObjectInfo(classType).ToJsonString(new JsonSerializerOptions { WriteIndented = indented });
}
