using System.Text.Json.Nodes;
using CharacterGen.GraphRuntime.Engine;
using CharacterGen.GraphRuntime.Execution;

namespace CharacterGen.Server.ComfyApi;

/// <summary>GET /queue and POST /queue <c>{"clear": true}</c> | <c>{"delete": [ids]}</c> (pending prompts only).</summary>
internal static class QueueEndpoints
{
    public static void MapQueueRoutes(this IEndpointRouteBuilder api)
    {
        api.MapGet("/queue", GetQueue);
        api.MapPost("/queue", PostQueue);
    }

    private static IResult GetQueue(WorkflowEngine engine)
    {
        var queue = engine.Queue;
        var running = new JsonArray();
        foreach (var job in queue.AllRunning) running.Add(HistoryShapes.QueueItem(job)); // several when nodes share a queue
        var pending = new JsonArray(queue.Pending.Select(j => (JsonNode?)HistoryShapes.QueueItem(j)).ToArray());
        return ComfyResults.Json(new JsonObject { ["queue_running"] = running, ["queue_pending"] = pending });
    }

    private static async Task<IResult> PostQueue(HttpRequest request, WorkflowEngine engine, ComfySocketHub hub)
    {
        var read = await RequestBodies.ReadObjectAsync(request, RequestBodies.ControlBodyBytes, 16, request.HttpContext.RequestAborted);
        if (read.Body is not { } body) return ComfyResults.Error(read.Error!, read.Status);

        var doomed = new List<string>();
        if (IsTrue(body["clear"])) doomed.AddRange(engine.Queue.Pending.Select(j => j.Id));
        if (body["delete"] is JsonArray ids) doomed.AddRange(Strings(ids));
        foreach (var id in doomed.Distinct())
            if (engine.GetJob(id)?.Status == JobStatus.Pending) engine.Cancel(id); // never the running one
        if (doomed.Count > 0) hub.BroadcastStatus();
        return ComfyResults.Ok();
    }

    internal static bool IsTrue(JsonNode? node) => node is JsonValue v && v.TryGetValue(out bool b) && b;

    internal static IEnumerable<string> Strings(JsonArray array) =>
        array.OfType<JsonValue>().Select(v => v.TryGetValue(out string? s) ? s : null).OfType<string>();
}
