using System.Text.Json.Nodes;

namespace CharacterGen.Server.Tests.ComfyApi.Support;

/// <summary>API-format prompts over <see cref="ComfyTestNodes"/>.</summary>
public static class TestWorkflows
{
    /// <summary>Const → Steps (progress + previews) → TestSaveImage: 3 nodes, one output.</summary>
    public static JsonObject SaveChain(long value = 7, long steps = 3, string prefix = "ComfyUI", bool wait = false) => new()
    {
        ["1"] = Node("Const", new JsonObject { ["value"] = value }),
        ["2"] = Node("Steps", new JsonObject { ["value"] = Link("1"), ["steps"] = steps, ["wait"] = wait }),
        ["3"] = Node("TestSaveImage", new JsonObject { ["images"] = Link("2"), ["filename_prefix"] = prefix }),
    };

    /// <summary>Const → Blocker (waits for the gate) → TestSaveImage. <paramref name="tag"/> makes prompts distinct.</summary>
    public static JsonObject Blocking(long tag = 0, string prefix = "Blocked") => new()
    {
        ["1"] = Node("Const", new JsonObject { ["value"] = 1 }),
        ["2"] = Node("Blocker", new JsonObject { ["value"] = Link("1"), ["tag"] = tag }),
        ["3"] = Node("TestSaveImage", new JsonObject { ["images"] = Link("2"), ["filename_prefix"] = prefix }),
    };

    /// <summary>Const → Throw → TestSaveImage: fails in node 2.</summary>
    public static JsonObject Failing() => new()
    {
        ["1"] = Node("Const", new JsonObject { ["value"] = 1 }),
        ["2"] = Node("Throw", new JsonObject { ["value"] = Link("1") }),
        ["3"] = Node("TestSaveImage", new JsonObject { ["images"] = Link("2"), ["filename_prefix"] = "Failed" }),
    };

    public static JsonObject Node(string classType, JsonObject inputs) => new() { ["class_type"] = classType, ["inputs"] = inputs };

    public static JsonArray Link(string node, int slot = 0) => new(node, slot);
}
