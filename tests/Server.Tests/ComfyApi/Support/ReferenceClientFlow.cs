using System.Text.Json.Nodes;

namespace CharacterGen.Server.Tests.ComfyApi.Support;

/// <summary>
/// ComfyUI's reference client (script_examples/websockets_api_example.py), independent of the node catalogue:
/// open /ws?clientId=… → POST /prompt with that client_id → read until <c>executing {node: null}</c> for the
/// prompt → GET /history/{id} → GET /view for every output image.
/// </summary>
public static class ReferenceClientFlow
{
    public sealed record OutputFile(string NodeId, JsonObject Image, byte[] Bytes, string? ContentType);

    public sealed record Result(string PromptId, JsonObject Response, List<Received> Frames, JsonObject History, List<OutputFile> Files)
    {
        public IEnumerable<Received> OfType(string type) => Frames.Where(f => f.Type == type);
        public List<string> Types => Frames.Where(f => !f.IsBinary).Select(f => f.Type!).ToList();
    }

    /// <param name="socket">A socket already connected with <paramref name="clientId"/> (its initial status already read).</param>
    public static async Task<Result> RunAsync(ComfyServer server, ComfySocket socket, string clientId, JsonObject prompt)
    {
        var (status, response) = await server.PostPromptAsync(new JsonObject { ["prompt"] = prompt, ["client_id"] = clientId });
        Assert.That(status, Is.EqualTo(200), response.ToJsonString());
        var promptId = response["prompt_id"]!.GetValue<string>();

        var frames = await socket.ReadUntilFinishedAsync(promptId);

        var history = (JsonObject)await server.GetJsonAsync($"/history/{promptId}");
        Assert.That(history.ContainsKey(promptId), history.ToJsonString());
        var entry = (JsonObject)history[promptId]!;

        var files = new List<OutputFile>();
        foreach (var (node, output) in (JsonObject)entry["outputs"]!)
        {
            if (output?["images"] is not JsonArray images) continue;
            foreach (var image in images.OfType<JsonObject>())
            {
                var query = $"filename={Uri.EscapeDataString(image["filename"]!.GetValue<string>())}" +
                            $"&subfolder={Uri.EscapeDataString(image["subfolder"]!.GetValue<string>())}" +
                            $"&type={Uri.EscapeDataString(image["type"]!.GetValue<string>())}";
                using var view = await server.Http.GetAsync("/view?" + query);
                Assert.That((int)view.StatusCode, Is.EqualTo(200), query);
                files.Add(new OutputFile(node, image, await view.Content.ReadAsByteArrayAsync(), view.Content.Headers.ContentType?.MediaType));
            }
        }
        return new Result(promptId, response, frames, entry, files);
    }
}
