using System.Text.Json.Nodes;
using CharacterGen.GraphRuntime.Contracts;
using CharacterGen.GraphRuntime.WorkflowFormat;

namespace CharacterGen.GraphRuntime.Bench;

/// <summary>No-op nodes and the two graph shapes measured: a chain and a fan-out/fan-in.</summary>
public static class NoopGraphs
{
    public static NodeCatalog Catalog { get; } = new([
        new NodeBuilder("Source").Required(InputSpec.Int("value", 0)).Output(IoTypes.Int)
            .Execute(static (_, i) => NodeOutput.Of(i["value"])).Build(),
        new NodeBuilder("Noop").Required(InputSpec.Link("x", IoTypes.Any)).Optional(InputSpec.Int("tag")).Output(IoTypes.Any)
            .Execute(static (_, i) => NodeOutput.Of(i["x"])).Build(),
        new NodeBuilder("Sink").OutputNode().DynamicInputs("x", IoTypes.Any).Required(InputSpec.Link("x1", IoTypes.Any))
            .Execute(static (_, _) => NodeOutput.Empty).Build(),
    ]);

    /// <summary>Source → Noop × (n−2) → Sink.</summary>
    public static ApiWorkflow Chain(int n, int seed = 0)
    {
        var root = new JsonObject { ["0"] = Node("Source", new JsonObject { ["value"] = seed }) };
        for (var i = 1; i < n - 1; i++) root[$"{i}"] = Node("Noop", new JsonObject { ["x"] = Link(i - 1) });
        root[$"{n - 1}"] = Node("Sink", new JsonObject { ["x1"] = Link(n - 2) });
        return ApiWorkflow.FromJson(root);
    }

    /// <summary>Source → (n−2) parallel Noops → one Sink taking them all. Each Noop has its own tag,
    /// otherwise they would share one input signature and all but the first would be cache hits.</summary>
    public static ApiWorkflow Wide(int n, int seed = 0)
    {
        var root = new JsonObject { ["0"] = Node("Source", new JsonObject { ["value"] = seed }) };
        var sink = new JsonObject();
        for (var i = 1; i < n - 1; i++)
        {
            root[$"{i}"] = Node("Noop", new JsonObject { ["x"] = Link(0), ["tag"] = i });
            sink[$"x{i}"] = Link(i);
        }
        root[$"{n - 1}"] = Node("Sink", sink);
        return ApiWorkflow.FromJson(root);
    }

    private static JsonObject Node(string type, JsonObject inputs) => new() { ["class_type"] = type, ["inputs"] = inputs };
    private static JsonArray Link(int id) => new($"{id}", 0);
}
