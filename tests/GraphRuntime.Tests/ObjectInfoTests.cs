using System.Text.Json.Nodes;

namespace CharacterGen.GraphRuntime.Tests;

/// <summary>object_info must match ComfyUI's server.py node_info key for key, in order.</summary>
public class ObjectInfoTests
{
    /// <summary>The expected JSON without whitespace (numbers keep their written form, e.g. 1.0).</summary>
    private static string Compact(string json) => JsonNode.Parse(json)!.ToJsonString();

    private static string Info(string classType)
    {
        using var nodes = new TestNodes();
        return nodes.Catalog.ObjectInfo()[classType]!.ToJsonString();
    }

    [Test]
    public void Widgets_with_options_required_and_optional()
    {
        Assert.That(Info("Scale"), Is.EqualTo(Compact("""
            {"input": {"required": {"x": ["FLOAT", {"default": 1.0, "min": -10.0, "max": 10.0, "step": 0.01, "tooltip": "value"}]},
                       "optional": {"factor": ["FLOAT", {"default": 1.0, "min": 0.0, "max": 100.0, "step": 0.1}]}},
             "input_order": {"required": ["x"], "optional": ["factor"]},
             "output": ["FLOAT"], "output_is_list": [false], "output_name": ["FLOAT"],
             "name": "Scale", "display_name": "Scale", "description": "", "python_module": "nodes",
             "category": "test/math", "output_node": false}
            """)));
    }

    [Test]
    public void Output_node_with_a_socket_and_no_outputs()
    {
        Assert.That(Info("Output"), Is.EqualTo(Compact("""
            {"input": {"required": {"value": ["*"]}}, "input_order": {"required": ["value"]},
             "output": [], "output_is_list": [], "output_name": [],
             "name": "Output", "display_name": "Output", "description": "", "python_module": "nodes",
             "category": "test", "output_node": true}
            """)));
    }

    [Test]
    public void Seeds_combos_strings_and_booleans()
    {
        var sample = JsonNode.Parse(Info("Sample"))!;
        Assert.That(sample["input"]!["required"]!["seed"]!.ToJsonString(),
            Is.EqualTo("""["INT",{"default":0,"min":0,"max":18446744073709551615,"control_after_generate":true}]"""));
        Assert.That(sample["input"]!["required"]!["model"]!.ToJsonString(), Is.EqualTo("""["MODEL"]"""));
        Assert.That(sample["input_order"]!["required"]!.ToJsonString(), Is.EqualTo("""["model","seed","steps"]"""));

        var load = JsonNode.Parse(Info("LoadModel"))!;
        Assert.That(load["input"]!["required"]!["ckpt_name"]!.ToJsonString(), Is.EqualTo("""[["a.safetensors","b.safetensors"]]"""));
        Assert.That(load["output"]!.ToJsonString(), Is.EqualTo("""["MODEL","CLIP"]"""));
        Assert.That(load["output_name"]!.ToJsonString(), Is.EqualTo("""["MODEL","CLIP"]"""));

        var text = JsonNode.Parse(Info("Text"))!;
        Assert.That(text["input"]!.ToJsonString(), Is.EqualTo(Compact("""
            {"required": {"text": ["STRING", {"default": "", "multiline": true}], "upper": ["BOOLEAN", {"default": false}]},
             "optional": {"mode": [["plain", "fancy"], {"default": "plain"}]}}
            """)));
        Assert.That(JsonNode.Parse(Info("Const"))!["display_name"]!.GetValue<string>(), Is.EqualTo("Constant"));
    }

    [Test]
    public void Hidden_inputs_list_lazy_and_list_outputs()
    {
        var hidden = JsonNode.Parse(Info("Hidden"))!;
        Assert.That(hidden["input"]!["hidden"]!.ToJsonString(),
            Is.EqualTo("""{"prompt":"PROMPT","extra_pnginfo":"EXTRA_PNGINFO","unique_id":"UNIQUE_ID"}"""));
        Assert.That(hidden["input_order"]!.ToJsonString(),
            Is.EqualTo("""{"required":["value"],"hidden":["prompt","extra_pnginfo","unique_id"]}"""));
        Assert.That(JsonNode.Parse(Info("Range"))!["output_is_list"]!.ToJsonString(), Is.EqualTo("[true]"));
        Assert.That(JsonNode.Parse(Info("Range"))!["output_name"]!.ToJsonString(), Is.EqualTo("""["values"]"""));
        Assert.That(JsonNode.Parse(Info("Switch"))!["input"]!["required"]!["on_true"]!.ToJsonString(), Is.EqualTo("""["INT",{"lazy":true}]"""));
    }

    [Test]
    public void Single_class_lookup_and_unknown_class()
    {
        using var nodes = new TestNodes();
        Assert.That(nodes.Catalog.ObjectInfoJson("Nope"), Is.EqualTo("{}"));
        Assert.That(JsonNode.Parse(nodes.Catalog.ObjectInfoJson("Add"))!.AsObject().Select(p => p.Key), Is.EqualTo(new[] { "Add" }));
        var keys = JsonNode.Parse(nodes.Catalog.ObjectInfoJson())!["Add"]!.AsObject().Select(p => p.Key);
        Assert.That(keys, Is.EqualTo(new[]
        {
            "input", "input_order", "output", "output_is_list", "output_name", "name", "display_name",
            "description", "python_module", "category", "output_node",
        }));
    }
}
