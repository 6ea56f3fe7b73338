using System.Text.Json.Nodes;
using CharacterGen.GraphRuntime.Engine;

namespace CharacterGen.Server.ComfyApi;

/// <summary>GET /history[?max_items&amp;offset], GET /history/{prompt_id}, POST /history <c>{"clear"}</c> | <c>{"delete"}</c>.</summary>
internal static class HistoryEndpoints
{
    public static void MapHistoryRoutes(this IEndpointRouteBuilder api)
    {
        api.MapGet("/history", GetHistory);
        api.MapGet("/history/{prompt_id}", GetEntry);
        api.MapPost("/history", PostHistory);
    }

    private static IResult GetHistory(HttpRequest request, WorkflowEngine engine)
    {
        if (!TryInt(request.Query["max_items"], out var maxItems) || !TryInt(request.Query["offset"], out var offset))
            return ComfyResults.Error("max_items and offset must be integers");
        var history = engine.History.Where(HistoryShapes.InHistory).ToList();
        return ComfyResults.Json(HistoryShapes.Page(history, maxItems, offset is < 0 ? null : offset));
    }

    /// <summary><c>{id: entry}</c>, or <c>{}</c> while the prompt is unknown, pending or running.</summary>
    private static IResult GetEntry(string prompt_id, WorkflowEngine engine)
    {
        var result = new JsonObject();
        if (engine.GetJob(prompt_id) is { } job && HistoryShapes.InHistory(job)) result[job.Id] = HistoryShapes.Entry(job);
        return ComfyResults.Json(result);
    }

    private static async Task<IResult> PostHistory(HttpRequest request, WorkflowEngine engine)
    {
        var read = await RequestBodies.ReadObjectAsync(request, RequestBodies.ControlBodyBytes, 16, request.HttpContext.RequestAborted);
        if (read.Body is not { } body) return ComfyResults.Error(read.Error!, read.Status);
        if (QueueEndpoints.IsTrue(body["clear"])) engine.DeleteHistory();
        if (body["delete"] is JsonArray ids) engine.DeleteHistory(QueueEndpoints.Strings(ids).ToHashSet(StringComparer.Ordinal));
        return ComfyResults.Ok();
    }

    private static bool TryInt(Microsoft.Extensions.Primitives.StringValues value, out int? result)
    {
        result = null;
        if (value.Count == 0 || string.IsNullOrEmpty(value[0])) return true;
        if (!int.TryParse(value[0], out var parsed)) return false;
        result = parsed;
        return true;
    }
}
