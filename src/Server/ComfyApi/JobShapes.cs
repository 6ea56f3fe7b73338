using System.Text.Json.Nodes;
using CharacterGen.GraphRuntime.Execution;
using CharacterGen.GraphRuntime.Jobs;

namespace CharacterGen.Server.ComfyApi;

/// <summary>The job objects of <c>GET /api/jobs[/{id}]</c> (ComfyUI comfy_execution/jobs.py), null fields left out.</summary>
internal static class JobShapes
{
    public const string Pending = "pending";
    public const string InProgress = "in_progress";
    public const string Completed = "completed";
    public const string Failed = "failed";
    public const string Cancelled = "cancelled";

    public static readonly string[] AllStatuses = [Pending, InProgress, Completed, Failed, Cancelled];

    private static readonly HashSet<string> PreviewableMedia = new(StringComparer.Ordinal) { "images", "video", "audio", "3d", "text" };

    public static string StatusOf(JobSnapshot job) => job.Status switch
    {
        JobStatus.Pending => Pending,
        JobStatus.Running => InProgress,
        JobStatus.Succeeded => Completed,
        JobStatus.Failed => Failed,
        _ => Cancelled,
    };

    /// <summary>The job; with <paramref name="detail"/> also its workflow and, once finished, outputs and status.</summary>
    public static JsonObject Job(JobSnapshot job, bool detail)
    {
        var result = new JsonObject
        {
            ["id"] = job.Id,
            ["status"] = StatusOf(job),
            ["priority"] = ComfyJson.Number(job.Number),
            ["create_time"] = ComfyJson.Milliseconds(job.CreatedAt),
        };
        if (job.StartedAt is { } started) result["execution_start_time"] = ComfyJson.Milliseconds(started);
        if (job.IsFinished && job.FinishedAt is { } finished) result["execution_end_time"] = ComfyJson.Milliseconds(finished);
        if (job.Status == JobStatus.Failed) result["execution_error"] = ExecutionMessages.Error(job, job.FinishedAt ?? job.CreatedAt);

        var (count, previewable, preview) = Summarize(job);
        result["outputs_count"] = count;
        result["previewable_outputs_count"] = previewable;
        if (preview is not null) result["preview_output"] = preview;
        if (WorkflowId(job) is { } workflowId) result["workflow_id"] = workflowId;

        if (!detail) return result;
        if (job.IsFinished)
        {
            var outputs = new JsonObject();
            foreach (var (node, ui) in job.Outputs) outputs[node] = ComfyJson.Ui(ui);
            result["outputs"] = outputs;
            if (job.StartedAt is not null) result["execution_status"] = HistoryShapes.Status(job);
        }
        result["workflow"] = new JsonObject { ["prompt"] = job.Workflow.Root.DeepClone(), ["extra_data"] = job.ExtraData.DeepClone() };
        return result;
    }

    /// <summary>extra_data.extra_pnginfo.workflow.id, the UI workflow's id.</summary>
    public static string? WorkflowId(JobSnapshot job) =>
        job.ExtraData["extra_pnginfo"]?["workflow"]?["id"] is JsonValue v && v.TryGetValue<string>(out var id) ? id : null;

    /// <summary>
    /// Output items (dicts in list-valued ui keys) and the preview: a saved (<c>type: output</c>) previewable item
    /// first, else any previewable one.
    /// </summary>
    private static (int Count, int Previewable, JsonObject? Preview) Summarize(JobSnapshot job)
    {
        int count = 0, previewable = 0;
        JsonObject? preview = null, fallback = null;
        foreach (var (node, ui) in job.Outputs)
        {
            foreach (var (media, items) in ComfyJson.Ui(ui))
            {
                if (media == "animated" || items is not JsonArray list) continue;
                foreach (var item in list.OfType<JsonObject>())
                {
                    count++;
                    if (!PreviewableMedia.Contains(media)) continue;
                    previewable++;
                    var enriched = (JsonObject)item.DeepClone();
                    enriched["nodeId"] = node;
                    if (!enriched.ContainsKey("mediaType")) enriched["mediaType"] = media;
                    if (ComfyJson.String(item, "type") == "output") preview ??= enriched;
                    else fallback ??= enriched;
                }
            }
        }
        return (count, previewable, preview ?? fallback);
    }

    /// <summary>Sort key in ticks (finer than the ms clients see, so quick submissions keep their order): creation, or duration (0 until finished).</summary>
    public static long SortKey(JobSnapshot job, bool byDuration) => byDuration
        ? job.StartedAt is { } s && job.FinishedAt is { } f ? (f - s).Ticks : 0
        : job.CreatedAt.UtcTicks;
}
