using System.Text.Json.Nodes;
using CharacterGen.GraphRuntime.Jobs;

namespace CharacterGen.Server.ComfyApi;

/// <summary>
/// The <c>data</c> objects of ComfyUI's WebSocket messages (reference §1 "WebSocket"), with its field names and
/// order. The same objects go into history's <c>status.messages</c>.
/// </summary>
internal static class ExecutionMessages
{
    public const string Status = "status";
    public const string ExecutionStart = "execution_start";
    public const string ExecutionCached = "execution_cached";
    public const string Executing = "executing";
    public const string Progress = "progress";
    public const string ProgressState = "progress_state";
    public const string Executed = "executed";
    public const string ExecutionSuccess = "execution_success";
    public const string ExecutionError = "execution_error";
    public const string ExecutionInterrupted = "execution_interrupted";
    public const string FeatureFlags = "feature_flags";

    /// <summary>A text frame: <c>{"type": T, "data": {...}}</c>.</summary>
    public static JsonObject Message(string type, JsonObject data) => new() { ["type"] = type, ["data"] = data };

    public static JsonObject QueueInfo(int queueRemaining) =>
        new() { ["exec_info"] = new JsonObject { ["queue_remaining"] = queueRemaining } };

    public static JsonObject StatusData(int queueRemaining, string? sid = null)
    {
        var data = new JsonObject { ["status"] = QueueInfo(queueRemaining) };
        if (sid is not null) data["sid"] = sid;
        return data;
    }

    public static JsonObject Start(string promptId, DateTimeOffset time) =>
        new() { ["prompt_id"] = promptId, ["timestamp"] = ComfyJson.Milliseconds(time) };

    public static JsonObject Cached(string promptId, IEnumerable<string> nodes, DateTimeOffset time) =>
        new() { ["nodes"] = ComfyJson.Strings(nodes), ["prompt_id"] = promptId, ["timestamp"] = ComfyJson.Milliseconds(time) };

    /// <summary><c>{node, display_node, prompt_id}</c>, or the finish signal <c>{node: null, prompt_id}</c>.</summary>
    public static JsonObject ExecutingNode(string promptId, string? node)
    {
        var data = new JsonObject { ["node"] = node };
        if (node is not null) data["display_node"] = node;
        data["prompt_id"] = promptId;
        return data;
    }

    /// <summary>ComfyUI's progress data; a node's extra values (a training step's loss, lr, ETA …) follow as further keys.</summary>
    public static JsonObject ProgressData(string promptId, string node, double value, double max,
        IReadOnlyDictionary<string, object?>? details = null)
    {
        var data = new JsonObject
        {
            ["value"] = ComfyJson.Number(value), ["max"] = ComfyJson.Number(max), ["prompt_id"] = promptId, ["node"] = node,
        };
        if (details is not null)
            foreach (var (key, v) in details) data.TryAdd(key, ComfyJson.Value(v));
        return data;
    }

    public static JsonObject ExecutedData(string promptId, string node, JsonObject? output) => new()
    {
        ["node"] = node, ["display_node"] = node, ["output"] = output, ["prompt_id"] = promptId,
    };

    public static JsonObject Success(string promptId, DateTimeOffset time) => Start(promptId, time);

    /// <summary>
    /// ComfyUI's execution_error, without what it leaks: <c>traceback</c> is always empty and messages lose
    /// absolute paths; <c>current_inputs</c> are short summaries, never whole values.
    /// </summary>
    public static JsonObject Error(JobSnapshot job, DateTimeOffset time)
    {
        var error = job.Error;
        var inputs = new JsonObject();
        foreach (var (name, summary) in error?.InputsSummary ?? new Dictionary<string, string>())
            inputs[name] = new JsonArray(ErrorText.WithoutPaths(summary));
        var done = FinishedNodes(job);
        return new JsonObject
        {
            ["prompt_id"] = job.Id,
            ["node_id"] = error?.NodeId,
            ["node_type"] = error?.ClassType,
            ["executed"] = ComfyJson.Strings(done),
            ["exception_message"] = ErrorText.WithoutPaths(error?.Message ?? ""),
            ["exception_type"] = error?.ErrorType ?? "Exception",
            ["traceback"] = new JsonArray(),
            ["current_inputs"] = inputs,
            ["current_outputs"] = ComfyJson.Strings(done),
            ["timestamp"] = ComfyJson.Milliseconds(time),
        };
    }

    public static JsonObject Interrupted(JobSnapshot job, DateTimeOffset time) => new()
    {
        ["prompt_id"] = job.Id,
        ["node_id"] = job.CancelledAtNode,
        ["node_type"] = job.CancelledAtNode is { } node ? job.Workflow.ClassType(node) : null,
        ["executed"] = ComfyJson.Strings(FinishedNodes(job)),
        ["timestamp"] = ComfyJson.Milliseconds(time),
    };

    /// <summary>Nodes whose outputs exist at the end (run or taken from the cache), in the order they finished.</summary>
    private static IEnumerable<string> FinishedNodes(JobSnapshot job) => job.Timings.Select(t => t.NodeId).Distinct();
}
