using System.Text;
using System.Text.Json.Nodes;
using CharacterGen.Protos.V1;
using Grpc.Core;

namespace CharacterGen.Soak.Bench;

/// <summary>
/// Runs one txt2img job (workflows/txt2img_sd15.json on the tiny checkpoint) to its end, over ComfyUI HTTP or gRPC.
/// Each call takes a new seed, so the sampler never hits the node cache. Returns null on success, else why not.
/// </summary>
public sealed class TinyJobs(JsonObject workflow, HttpClient http, Uri httpAddress, Workflows.WorkflowsClient grpc)
{
    private static readonly TimeSpan JobTimeout = TimeSpan.FromSeconds(120);

    /// <summary>The repository's SD1.5 txt2img workflow on tiny.safetensors at width×height, `steps` steps.</summary>
    public static JsonObject Workflow(string repositoryRoot, int steps, int size)
    {
        var prompt = (JsonObject)JsonNode.Parse(File.ReadAllText(Path.Combine(repositoryRoot, "workflows", "txt2img_sd15.json")))!;
        prompt["4"]!["inputs"]!["ckpt_name"] = "tiny.safetensors";
        prompt["3"]!["inputs"]!["steps"] = steps;
        prompt["5"]!["inputs"]!["width"] = size;
        prompt["5"]!["inputs"]!["height"] = size;
        prompt["9"]!["inputs"]!["filename_prefix"] = "soak";
        return prompt;
    }

    /// <summary>POST /prompt, then GET /history/{id} until the job is there.</summary>
    public async Task<string?> RunHttpAsync(long seed)
    {
        using var timeout = new CancellationTokenSource(JobTimeout);
        try
        {
            var prompt = (JsonObject)workflow.DeepClone();
            prompt["3"]!["inputs"]!["seed"] = seed;
            using var content = new StringContent(new JsonObject { ["prompt"] = prompt }.ToJsonString(), Encoding.UTF8, "application/json");
            using var response = await http.PostAsync(new Uri(httpAddress, "/prompt"), content, timeout.Token);
            var body = await response.Content.ReadAsStringAsync(timeout.Token);
            if (!response.IsSuccessStatusCode) return $"POST /prompt: {(int)response.StatusCode} {body}";
            var id = JsonNode.Parse(body)!["prompt_id"]!.GetValue<string>();
            while (true)
            {
                var history = JsonNode.Parse(await http.GetStringAsync(new Uri(httpAddress, $"/history/{id}"), timeout.Token))!.AsObject();
                if (history[id] is { } entry)
                {
                    var status = entry["status"]?["status_str"]?.GetValue<string>();
                    return status == "success" ? null : $"job {id}: {entry["status"]?.ToJsonString()}";
                }
                await Task.Delay(10, timeout.Token);
            }
        }
        catch (Exception e) when (e is HttpRequestException or OperationCanceledException or System.Text.Json.JsonException)
        {
            return $"HTTP: {e.GetType().Name}: {e.Message}";
        }
    }

    /// <summary>Workflows.Run: submit and follow the job's events to the terminal one.</summary>
    public async Task<string?> RunGrpcAsync(long seed)
    {
        var request = new RunRequest
        {
            Submit = new SubmitRequest
            {
                Workflow = new WorkflowSpec
                {
                    WorkflowJson = workflow.ToJsonString(),
                    Overrides = { new InputOverride { Input = "3.seed", IntValue = seed } },
                },
            },
        };
        try
        {
            using var call = grpc.Run(request, deadline: DateTime.UtcNow + JobTimeout);
            JobEvent? last = null;
            await foreach (var e in call.ResponseStream.ReadAllAsync()) last = e;
            return last?.EventCase == JobEvent.EventOneofCase.Succeeded ? null : $"gRPC Run ended with {last?.EventCase.ToString() ?? "no event"}: {last}";
        }
        catch (RpcException e)
        {
            return $"gRPC: {e.StatusCode}: {e.Status.Detail}";
        }
    }
}
