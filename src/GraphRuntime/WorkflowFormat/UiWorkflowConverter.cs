using System.Text.Json;
using System.Text.Json.Nodes;
using CharacterGen.GraphRuntime.Json;
using CharacterGen.GraphRuntime.Contracts;

namespace CharacterGen.GraphRuntime.WorkflowFormat;

/// <summary>
/// Converts the workflow that ComfyUI's "Save" writes (LiteGraph: nodes, links, widgets_values, groups)
/// into API format, the way the frontend's graphToPrompt does: widget values map onto the declared
/// widget inputs in order (a seed carries an extra control_after_generate value, an image upload an
/// extra upload value); Reroutes are followed; PrimitiveNodes become literals; bypassed nodes (mode 4)
/// pass a same-typed input through; muted nodes (mode 2), Notes and groups are dropped.
/// </summary>
public static class UiWorkflowConverter
{
    private const int ModeMuted = 2;
    private const int ModeBypassed = 4;
    private static readonly HashSet<string> VirtualTypes = ["Reroute", "PrimitiveNode", "Note", "MarkdownNote"];

    public static ApiWorkflow Convert(JsonObject ui, NodeCatalog catalog)
    {
        if (ui["definitions"]?["subgraphs"] is JsonArray { Count: > 0 })
            throw new WorkflowFormatException("Workflows with subgraphs are not supported; export the workflow in API format.");
        if (ui["extra"]?["groupNodes"] is JsonObject { Count: > 0 })
            throw new WorkflowFormatException("Workflows with group nodes are not supported; export the workflow in API format.");

        var nodes = ReadNodes(ui);
        var links = ReadLinks(ui);
        var prompt = new JsonObject();
        foreach (var node in nodes.Values)
        {
            if (node.Mode is ModeMuted or ModeBypassed || VirtualTypes.Contains(node.Type)) continue;
            var def = catalog.Find(node.Type);
            var inputs = WidgetInputs(node, def);
            foreach (var socket in node.Inputs)
            {
                if (socket.Link is not { } linkId) continue;
                switch (Resolve(linkId, nodes, links))
                {
                    case LinkTarget.Node(var sourceId, var slot):
                        inputs[socket.Name] = new JsonArray(sourceId, slot);
                        break;
                    case LinkTarget.Primitive(var primitive) when !inputs.ContainsKey(socket.Name):
                        if (FirstWidgetValue(primitive) is { } value) inputs[socket.Name] = Literal(value);
                        break;
                }
            }
            prompt[node.Id] = new JsonObject
            {
                ["inputs"] = inputs,
                ["class_type"] = node.Type,
                ["_meta"] = new JsonObject { ["title"] = node.Title ?? def?.EffectiveDisplayName ?? node.Type },
            };
        }
        return ApiWorkflow.FromJson(prompt);
    }

    /// <summary>widgets_values onto the node's widget inputs in declaration order.</summary>
    private static JsonObject WidgetInputs(UiNode node, NodeDefinition? def)
    {
        var inputs = new JsonObject();
        if (def is null || node.WidgetValues is null) return inputs;
        if (node.WidgetValues is JsonObject byName) // some nodes save widgets by name
        {
            foreach (var spec in def.Inputs)
                if (HasWidget(spec) && byName[spec.Name] is { } v) inputs[spec.Name] = Literal(v);
            return inputs;
        }
        if (node.WidgetValues is not JsonArray values) return inputs;
        var next = 0;
        foreach (var spec in def.Inputs)
        {
            if (!HasWidget(spec)) continue;
            if (next >= values.Count) break;
            inputs[spec.Name] = Literal(values[next++]);
            if (HasControlAfterGenerate(spec)) next++;
            if (spec.ImageUpload) next++;
        }
        return inputs;
    }

    private static bool HasWidget(InputSpec spec) => spec.Section != InputSection.Hidden && spec.IsWidget && !spec.ForceInput;

    /// <summary>The frontend adds the control widget to flagged INTs and, by name, to seed / noise_seed.</summary>
    private static bool HasControlAfterGenerate(InputSpec spec) =>
        spec.ControlAfterGenerate || (spec.Type == IoTypes.Int && spec.Name is "seed" or "noise_seed");

    /// <summary>Follows a link through reroutes and bypassed nodes to the node that really produces the value.</summary>
    private static LinkTarget? Resolve(long linkId, Dictionary<string, UiNode> nodes, Dictionary<long, UiLink> links)
    {
        for (var hops = 0; hops <= nodes.Count; hops++)
        {
            if (!links.TryGetValue(linkId, out var link) || !nodes.TryGetValue(link.OriginId, out var origin)) return null;
            if (origin.Type == "Reroute")
            {
                if (origin.Inputs.FirstOrDefault()?.Link is not { } upstream) return null;
                linkId = upstream;
                continue;
            }
            if (origin.Mode == ModeMuted) return null;
            if (origin.Mode == ModeBypassed)
            {
                var through = PassThroughInput(origin, link);
                if (through?.Link is not { } upstream) return null;
                linkId = upstream;
                continue;
            }
            if (origin.Type == "PrimitiveNode") return new LinkTarget.Primitive(origin);
            return new LinkTarget.Node(origin.Id, link.OriginSlot);
        }
        throw new WorkflowFormatException("The workflow's links loop through reroutes or bypassed nodes.");
    }

    /// <summary>The input of a bypassed node that stands in for the requested output: same slot and type, else the first same-typed one.</summary>
    private static UiSocket? PassThroughInput(UiNode node, UiLink link)
    {
        var type = link.Type ?? "*";
        static bool Matches(UiSocket s, string t) => s.Link is not null && (s.Type == t || s.Type == "*" || t == "*");
        if (link.OriginSlot < node.Inputs.Count && Matches(node.Inputs[link.OriginSlot], type)) return node.Inputs[link.OriginSlot];
        return node.Inputs.FirstOrDefault(s => Matches(s, type));
    }

    private static JsonNode? FirstWidgetValue(UiNode node) =>
        node.WidgetValues is JsonArray { Count: > 0 } values ? values[0] : null;

    /// <summary>Widget values go in as literals; a list must be wrapped so it is not read as a link.</summary>
    private static JsonNode? Literal(JsonNode? value) =>
        value is JsonArray ? new JsonObject { ["__value__"] = value.DeepClone() } : value?.DeepClone();

    private static Dictionary<string, UiNode> ReadNodes(JsonObject ui)
    {
        var nodes = new Dictionary<string, UiNode>(StringComparer.Ordinal);
        foreach (var item in ui["nodes"]!.AsArray())
        {
            if (item is not JsonObject n) throw new WorkflowFormatException("Every entry of \"nodes\" must be an object.");
            var id = Scalar(n["id"]) ?? throw new WorkflowFormatException("A node has no id.");
            var type = n["type"] is JsonValue t && t.TryGetValue<string>(out var s) ? s : throw new WorkflowFormatException($"Node {id} has no type.");
            var sockets = (n["inputs"] as JsonArray ?? []).OfType<JsonObject>().Select(i => new UiSocket(
                (i["widget"]?["name"] ?? i["name"]) is JsonValue nv && nv.TryGetValue<string>(out var name) ? name : "",
                i["type"] is JsonValue tv && tv.TryGetValue<string>(out var st) ? st : "*",
                LinkId(i["link"]))).ToList();
            var title = n["title"] is JsonValue tt && tt.TryGetValue<string>(out var ts) ? ts : null;
            var mode = JsonNumber.TryGetInt64(n["mode"], out var m) ? (int)m : 0;
            if (!nodes.TryAdd(id, new UiNode(id, type, mode, title, sockets, n["widgets_values"])))
                throw new WorkflowFormatException($"Node id {id} appears twice.");
        }
        return nodes;
    }

    private static Dictionary<long, UiLink> ReadLinks(JsonObject ui)
    {
        var links = new Dictionary<long, UiLink>();
        foreach (var item in ui["links"] as JsonArray ?? [])
        {
            UiLink? link = item switch
            {
                // [id, origin_id, origin_slot, target_id, target_slot, type]
                JsonArray { Count: >= 5 } a => new UiLink(LinkId(a[0]) ?? -1, Scalar(a[1]) ?? "", (int)(LinkId(a[2]) ?? 0), Type(a.Count > 5 ? a[5] : null)),
                JsonObject o => new UiLink(LinkId(o["id"]) ?? -1, Scalar(o["origin_id"]) ?? "", (int)(LinkId(o["origin_slot"]) ?? 0), Type(o["type"])),
                _ => null,
            };
            if (link is null || link.Id < 0) throw new WorkflowFormatException("A link in \"links\" is malformed.");
            links[link.Id] = link;
        }
        return links;
    }

    private static string? Scalar(JsonNode? node) => node?.GetValueKind() switch
    {
        JsonValueKind.String => node.GetValue<string>(),
        JsonValueKind.Number => node.ToJsonString(),
        _ => null,
    };

    private static long? LinkId(JsonNode? node) => JsonNumber.TryGetInt64(node, out var id) ? id : null;

    private static string? Type(JsonNode? node) => node is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;

    private sealed record UiSocket(string Name, string Type, long? Link);
    private sealed record UiNode(string Id, string Type, int Mode, string? Title, List<UiSocket> Inputs, JsonNode? WidgetValues);
    private sealed record UiLink(long Id, string OriginId, int OriginSlot, string? Type);

    private abstract record LinkTarget
    {
        public sealed record Node(string SourceId, int Slot) : LinkTarget;
        public sealed record Primitive(UiNode Origin) : LinkTarget;
    }
}
