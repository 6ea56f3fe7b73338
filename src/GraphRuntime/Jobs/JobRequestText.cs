using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using CharacterGen.GraphRuntime.WorkflowFormat;

namespace CharacterGen.GraphRuntime.Jobs;

/// <summary>
/// A finished job's request (workflow and extra_data) as compact UTF-8 JSON. A parsed JsonNode tree costs many times
/// its text, and a finished job's request is read only now and then (/history, job details), so history keeps this
/// and parses a fresh copy for each reader.
/// </summary>
internal sealed class JobRequestText
{
    private static readonly JsonSerializerOptions Compact = new() { WriteIndented = false };
    private readonly byte[] _workflow;
    private readonly byte[] _extraData;

    private JobRequestText(byte[] workflow, byte[] extraData)
    {
        _workflow = workflow;
        _extraData = extraData;
    }

    public static JobRequestText From(ApiWorkflow workflow, JsonObject extraData) =>
        new(JsonSerializer.SerializeToUtf8Bytes(workflow.Root, Compact), JsonSerializer.SerializeToUtf8Bytes(extraData, Compact));

    /// <summary>From a store's columns (not parsed here: a restored history costs no parsing at start-up).</summary>
    public static JobRequestText From(string workflowJson, string extraDataJson) =>
        new(Encoding.UTF8.GetBytes(workflowJson), Encoding.UTF8.GetBytes(extraDataJson));

    /// <summary>Bytes held (for the history-cost tests).</summary>
    public int Size => _workflow.Length + _extraData.Length;

    public string WorkflowJson => Encoding.UTF8.GetString(_workflow);
    public string ExtraDataJson => Encoding.UTF8.GetString(_extraData);

    /// <summary>A new parsed copy; an unreadable stored text reads as an empty workflow (as restoring always did).</summary>
    public ApiWorkflow Workflow()
    {
        try { return ApiWorkflow.FromJson(Parse(_workflow) ?? new JsonObject()); }
        catch (WorkflowFormatException) { return ApiWorkflow.FromJson(new JsonObject()); }
    }

    public JsonObject ExtraData() => Parse(_extraData) as JsonObject ?? new JsonObject();

    private static JsonNode? Parse(byte[] utf8)
    {
        try
        {
            var node = JsonNode.Parse(utf8);
            StoredJobCodec.Materialize(node);
            return node;
        }
        catch (JsonException) { return null; }
    }
}
