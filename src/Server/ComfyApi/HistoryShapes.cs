using System.Text.Json.Nodes;
using CharacterGen.GraphRuntime.Execution;
using CharacterGen.GraphRuntime.Jobs;

namespace CharacterGen.Server.ComfyApi;

/// <summary>ComfyUI's queue items and history entries (reference §1 "Queue / history") built from job snapshots.</summary>
internal static class HistoryShapes
{
    /// <summary><c>[number, prompt_id, prompt, extra_data, outputs_to_execute]</c>.</summary>
    public static JsonArray QueueItem(JobSnapshot job) =>
    [
        ComfyJson.Number(job.Number),
        job.Id,
        job.Workflow.Root.DeepClone(),
        job.ExtraData.DeepClone(),
        ComfyJson.Strings(job.OutputNodeIds),
    ];

    /// <summary>ComfyUI keeps only prompts that started in history; one cancelled while pending never ran.</summary>
    public static bool InHistory(JobSnapshot job) => job.IsFinished && job.StartedAt is not null;

    /// <summary><c>{prompt, outputs, status, meta}</c>.</summary>
    public static JsonObject Entry(JobSnapshot job)
    {
        var outputs = new JsonObject();
        var meta = new JsonObject();
        foreach (var (node, ui) in job.Outputs)
        {
            outputs[node] = ComfyJson.Ui(ui);
            meta[node] = new JsonObject { ["node_id"] = node, ["display_node"] = node, ["parent_node"] = null, ["real_node_id"] = node };
        }
        return new JsonObject
        {
            ["prompt"] = QueueItem(job),
            ["outputs"] = outputs,
            ["status"] = Status(job),
            ["meta"] = meta,
        };
    }

    /// <summary><c>{status_str, completed, messages}</c>; an error and an interrupt differ only in the last message.</summary>
    public static JsonObject Status(JobSnapshot job)
    {
        var started = job.StartedAt ?? job.CreatedAt;
        var finished = job.FinishedAt ?? started;
        var messages = new JsonArray
        {
            new JsonArray(ExecutionMessages.ExecutionStart, ExecutionMessages.Start(job.Id, started)),
            new JsonArray(ExecutionMessages.ExecutionCached,
                ExecutionMessages.Cached(job.Id, job.Timings.Where(t => t.Cached).Select(t => t.NodeId), started)),
        };
        messages.Add(job.Status switch
        {
            JobStatus.Succeeded => new JsonArray(ExecutionMessages.ExecutionSuccess, ExecutionMessages.Success(job.Id, finished)),
            JobStatus.Cancelled => new JsonArray(ExecutionMessages.ExecutionInterrupted, ExecutionMessages.Interrupted(job, finished)),
            _ => new JsonArray(ExecutionMessages.ExecutionError, ExecutionMessages.Error(job, finished)),
        });
        return new JsonObject
        {
            ["status_str"] = job.Status == JobStatus.Succeeded ? "success" : "error",
            ["completed"] = job.Status == JobStatus.Succeeded,
            ["messages"] = messages,
        };
    }

    /// <summary>
    /// GET /history?max_items=N&amp;offset=M over entries oldest first: with only max_items the newest N, with an
    /// offset the N from there (ComfyUI's <c>get_history</c>).
    /// </summary>
    public static JsonObject Page(IReadOnlyList<JobSnapshot> history, int? maxItems, int? offset)
    {
        var start = offset ?? (maxItems is { } n ? history.Count - n : 0);
        var page = new JsonObject();
        for (var i = Math.Max(start, 0); i < history.Count; i++)
        {
            if (maxItems is { } max && page.Count >= max) break;
            page[history[i].Id] = Entry(history[i]);
        }
        return page;
    }
}
