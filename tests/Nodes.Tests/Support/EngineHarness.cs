using System.Text.Json.Nodes;
using CharacterGen.GraphRuntime.Engine;
using CharacterGen.GraphRuntime.Events;
using CharacterGen.GraphRuntime.Jobs;
using CharacterGen.GraphRuntime.Contracts;
using CharacterGen.GraphRuntime.WorkflowFormat;
using CharacterGen.Nodes.ModelCaching;
using CharacterGen.Nodes.Runtime;
using CharacterGen.Nodes.Sampling;

namespace CharacterGen.Nodes.Tests.Support;

/// <summary>One WorkflowEngine over the built-in catalogue, the tiny checkpoint and one tensor execution thread.</summary>
internal sealed class EngineHarness : IAsyncDisposable
{
    private EngineHarness(NodeTestEnvironment env, EngineOptions? options, LatentPreviewOptions? previews)
    {
        Env = env;
        Thread = new TensorExecutionThread();
        if (previews is not null) env.Services.Add(previews);
        Engine = new WorkflowEngine(env.Catalog, options, env.Services, Thread);
    }

    public NodeTestEnvironment Env { get; }
    public TensorExecutionThread Thread { get; }
    public WorkflowEngine Engine { get; }

    public static EngineHarness Create(EngineOptions? options = null, LatentPreviewOptions? previews = null,
        ModelCacheOptions? cacheOptions = null, ModelAliases? aliases = null) =>
        new(NodeTestEnvironment.Create(cacheOptions: cacheOptions, aliases: aliases), options, previews);

    /// <summary>A workflow shipped in workflows/, with the checkpoint set to the tiny one and overrides applied.</summary>
    public ApiWorkflow Workflow(string file, params string[] overrides)
    {
        string json = File.ReadAllText(Path.Combine(Repository.Root, "workflows", file));
        ApiWorkflow workflow = Engine.Parse(json);
        return WorkflowOverride.ApplyAll(workflow, ["4.ckpt_name=\"" + NodeTestEnvironment.Checkpoint + "\"", .. overrides], Env.Catalog);
    }

    /// <summary>Runs to the end and returns every event and the final snapshot.</summary>
    public async Task<(List<JobEvent> Events, JobSnapshot Job)> RunAsync(ApiWorkflow workflow, JsonObject? extraData = null,
        Action<JobEvent, string>? onEvent = null)
    {
        var submitted = Engine.Submit(workflow, new SubmitOptions { ExtraData = extraData });
        Assert.That(submitted.Status, Is.EqualTo(SubmitStatus.Queued), submitted.Validation?.ToJsonString());
        var events = new List<JobEvent>();
        await foreach (var e in Engine.Subscribe(submitted.JobId!))
        {
            events.Add(e);
            onEvent?.Invoke(e, submitted.JobId!);
        }
        return (events, Engine.GetJob(submitted.JobId!)!);
    }

    public static IEnumerable<string> Started(IEnumerable<JobEvent> events) => events.OfType<NodeStarted>().Select(e => e.NodeId);

    public static IEnumerable<string> Cached(IEnumerable<JobEvent> events) => events.OfType<NodesCached>().SelectMany(e => e.NodeIds);

    /// <summary>The files the job's SaveImage reported, as full paths.</summary>
    public IEnumerable<string> SavedFiles(JobSnapshot job) =>
        job.Outputs.Values.Where(ui => ui.ContainsKey("images")).SelectMany(ui => (IEnumerable<Dictionary<string, object?>>)ui["images"]!)
            .Select(i => Path.Combine(Env.Data.Output, (string)i["subfolder"]!, (string)i["filename"]!));

    public async ValueTask DisposeAsync()
    {
        await Engine.DisposeAsync();
        Thread.Dispose();
        Env.Dispose();
    }
}
