using System.Text.Json.Nodes;

namespace CharacterGen.Nodes.Tests.Support;

/// <summary>The shipped workflows/txt2img_sd15.json, optionally through a LoraLoader (node 10) on model and both prompts.</summary>
internal static class Txt2ImgWorkflow
{
    public static string Json(string? lora)
    {
        var json = JsonNode.Parse(File.ReadAllText(Path.Combine(Repository.Root, "workflows", "txt2img_sd15.json")))!.AsObject();
        if (lora is not null)
        {
            json["10"] = new JsonObject
            {
                ["class_type"] = "LoraLoader",
                ["inputs"] = new JsonObject
                {
                    ["model"] = new JsonArray("4", 0), ["clip"] = new JsonArray("4", 1), ["lora_name"] = lora,
                    ["strength_model"] = 1.0, ["strength_clip"] = 1.0,
                },
            };
            json["3"]!["inputs"]!["model"] = new JsonArray("10", 0);
            json["6"]!["inputs"]!["clip"] = new JsonArray("10", 1);
            json["7"]!["inputs"]!["clip"] = new JsonArray("10", 1);
        }
        return json.ToJsonString();
    }
}
