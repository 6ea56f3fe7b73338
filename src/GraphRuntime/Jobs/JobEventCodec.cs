using System.Text.Json.Nodes;
using CharacterGen.GraphRuntime.Events;

namespace CharacterGen.GraphRuntime.Jobs;

/// <summary>
/// A job event as the JSON text the shared store keeps (one row per event), so a node that did not run the job can
/// replay it. Previews are not stored (they are images, and may be dropped by design); the rest round-trips, ui
/// outputs and details coming back as plain values (<see cref="PlainValues"/>), as a live run has them.
/// </summary>
internal static class JobEventCodec
{
    public static string Encode(JobEvent e)
    {
        var o = new JsonObject { ["t"] = e.Timestamp.UtcTicks };
        switch (e)
        {
            case JobQueued q: o["kind"] = "queued"; o["position"] = q.Position; break;
            case JobStarted: o["kind"] = "started"; break;
            case NodesCached c: o["kind"] = "cached"; o["nodes"] = new JsonArray(c.NodeIds.Select(n => (JsonNode?)n).ToArray()); break;
            case NodeStarted s: o["kind"] = "node_started"; o["node"] = s.NodeId; o["class_type"] = s.ClassType; break;
            case NodeProgress p:
                o["kind"] = "progress"; o["node"] = p.NodeId; o["value"] = p.Value; o["max"] = p.Max;
                if (p.Details is { } details) o["details"] = Ui(details);
                break;
            case NodeFinished f:
                o["kind"] = "node_finished"; o["node"] = f.NodeId; o["class_type"] = f.ClassType; o["from_cache"] = f.FromCache;
                if (f.Ui is { } ui) o["ui"] = Ui(ui);
                break;
            case JobSucceeded: o["kind"] = "succeeded"; break;
            case JobFailed x:
                o["kind"] = "failed"; o["node"] = x.NodeId; o["class_type"] = x.ClassType; o["error_type"] = x.ErrorType; o["message"] = x.Message;
                o["inputs"] = new JsonObject(x.InputsSummary.Select(p => KeyValuePair.Create(p.Key, (JsonNode?)p.Value)));
                break;
            case JobCancelled c: o["kind"] = "cancelled"; o["node"] = c.NodeId; break;
            default: throw new ArgumentException($"No stored form for {e.GetType().Name}.", nameof(e));
        }
        return o.ToJsonString();
    }

    public static JobEvent Decode(string jobId, long sequence, string body)
    {
        var o = JsonNode.Parse(body) as JsonObject ?? throw new JobStoreException($"A stored event of job {jobId} is not a JSON object.");
        StoredJobCodec.Materialize(o);
        JobEvent e = (string?)o["kind"] switch
        {
            "queued" => new JobQueued((int)o["position"]!),
            "started" => new JobStarted(),
            "cached" => new NodesCached((o["nodes"] as JsonArray ?? []).Select(n => (string)n!).ToArray()),
            "node_started" => new NodeStarted((string)o["node"]!, (string)o["class_type"]!),
            "progress" => new NodeProgress((string)o["node"]!, (double)o["value"]!, (double)o["max"]!, null) { Details = UiOf(o["details"]) },
            "node_finished" => new NodeFinished((string)o["node"]!, (string)o["class_type"]!, UiOf(o["ui"]), (bool)o["from_cache"]!),
            "succeeded" => new JobSucceeded(),
            "failed" => new JobFailed((string?)o["node"], (string?)o["class_type"], (string)o["error_type"]!, (string)o["message"]!,
                (o["inputs"] as JsonObject ?? []).ToDictionary(p => p.Key, p => (string?)p.Value ?? "")),
            "cancelled" => new JobCancelled((string?)o["node"]),
            var kind => throw new JobStoreException($"A stored event of job {jobId} has the unknown kind '{kind}'."),
        };
        return e with { JobId = jobId, Sequence = sequence, Timestamp = new DateTimeOffset((long)o["t"]!, TimeSpan.Zero) };
    }

    // A ui output (or progress details) goes through the outputs codec as a one-entry outputs index.
    private static JsonNode? Ui(IReadOnlyDictionary<string, object?> ui) =>
        JsonNode.Parse(StoredJobCodec.OutputsJson(new Dictionary<string, IReadOnlyDictionary<string, object?>> { ["u"] = ui }))!["u"]!.DeepClone();

    private static IReadOnlyDictionary<string, object?>? UiOf(JsonNode? node) =>
        node is JsonObject ? PlainValues.Ui(StoredJobCodec.Outputs(new JsonObject { ["u"] = node.DeepClone() }.ToJsonString())["u"]) : null;
}
