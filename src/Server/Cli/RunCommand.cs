using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using CharacterGen.GraphRuntime.Engine;
using CharacterGen.GraphRuntime.Events;
using CharacterGen.GraphRuntime.Jobs;
using CharacterGen.GraphRuntime.Contracts;
using CharacterGen.GraphRuntime.Validation;
using CharacterGen.GraphRuntime.WorkflowFormat;
using CharacterGen.Nodes;
using CharacterGen.Nodes.Files;
using CharacterGen.Nodes.ModelCaching;
using CharacterGen.Nodes.Runtime;

namespace CharacterGen.Server.Cli;

/// <summary>Folders a `run` was given; registered as a service so that nodes can find models and write outputs.</summary>
public sealed record RunEnvironment(string? ModelsDirectory, string OutputDirectory, string? InputDirectory = null)
{
    /// <summary>The models tree (default ./models).</summary>
    public ModelFolders ModelFolders() => new(ModelsDirectory ?? Path.GetFullPath("models"));

    /// <summary>input/ (default ./input), output/ as given, temp/ in the system's temporary folder.</summary>
    public DataFolders DataFolders() => new(InputDirectory ?? Path.GetFullPath("input"), OutputDirectory,
        Path.Combine(Path.GetTempPath(), "charactergen-temp"));

    /// <summary>Aliases from the models folder's aliases.json (same shape as the server's ModelAliases section).</summary>
    /// <exception cref="InvalidDataException">The file is unreadable or invalid.</exception>
    public ModelAliases ModelAliases() => Nodes.ModelCaching.ModelAliases.Load(ModelFolders().Root);
}

/// <summary>
/// `charactergen run WORKFLOW.json [--set NODE_ID.INPUT=VALUE]... [--models DIR] [--out DIR]`: validates
/// and runs a workflow in-process, printing one plain line per node event. Exit codes: 0 success,
/// 1 a node failed (or the run was cancelled), 2 the workflow is invalid or unreadable.
/// </summary>
public static class RunCommand
{
    public const int Success = 0;
    public const int NodeFailed = 1;
    public const int InvalidWorkflow = 2;

    /// <summary>The production node catalogue; the node layer extends this composition.</summary>
    public static NodeCatalog DefaultCatalog(RunEnvironment environment) =>
        BuiltinNodes.Catalog(environment.ModelFolders(), environment.DataFolders(), environment.ModelAliases());

    public static Command Create(Func<RunEnvironment, NodeCatalog> catalogFactory, TextWriter? stdout = null, TextWriter? stderr = null)
    {
        var workflow = new Argument<FileInfo>("workflow") { Description = "Workflow JSON (ComfyUI API format or a saved UI workflow)." };
        var set = new Option<string[]>("--set")
        {
            Description = "Override an input: NODE_ID.INPUT=VALUE (VALUE is read as JSON when it parses, else as text). Repeatable.",
            Arity = ArgumentArity.ZeroOrMore,
        };
        var models = new Option<DirectoryInfo?>("--models") { Description = "A ComfyUI-style models folder (checkpoints/, loras/, ...)." };
        var output = new Option<DirectoryInfo?>("--out") { Description = "Where output files go (default: ./output)." };
        var input = new Option<DirectoryInfo?>("--input") { Description = "Where LoadImage finds its files (default: ./input)." };

        var command = new Command("run", "Validate and run a workflow in-process, with a progress display.");
        command.Arguments.Add(workflow);
        command.Options.Add(set);
        command.Options.Add(models);
        command.Options.Add(output);
        command.Options.Add(input);
        command.SetAction((parseResult, cancellationToken) =>
        {
            var environment = new RunEnvironment(
                parseResult.GetValue(models)?.FullName,
                parseResult.GetValue(output)?.FullName ?? Path.GetFullPath("output"),
                parseResult.GetValue(input)?.FullName);
            return RunAsync(parseResult.GetValue(workflow)!, parseResult.GetValue(set) ?? [], environment,
                catalogFactory, stdout ?? Console.Out, stderr ?? Console.Error, cancellationToken);
        });
        return command;
    }

    private static async Task<int> RunAsync(FileInfo file, string[] overrides, RunEnvironment environment,
        Func<RunEnvironment, NodeCatalog> catalogFactory, TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken)
    {
        if (!file.Exists)
        {
            await stderr.WriteLineAsync($"error: workflow file not found: {file.FullName}");
            return InvalidWorkflow;
        }

        NodeCatalog catalog;
        try { catalog = catalogFactory(environment); }
        catch (InvalidDataException e)
        {
            await stderr.WriteLineAsync($"error: {e.Message}");
            return InvalidWorkflow;
        }
        // All tensor work on one thread; the models this run loads are freed when it ends.
        TorchSetup.ConfigureThreads();
        using var thread = new TensorExecutionThread();
        using var models = new ModelCache(ModelCacheOptions.FromEnvironment());
        var services = new ServiceBag().Add(environment).Add(environment.ModelFolders()).Add(environment.DataFolders()).Add(models)
            .Add(DefaultMemoryBudget.For(models.Options.Device).Budget);
        await using var engine = new WorkflowEngine(catalog, new EngineOptions { CacheSize = 0 }, services, thread);

        ApiWorkflow prompt;
        try
        {
            prompt = engine.Parse(await File.ReadAllTextAsync(file.FullName, cancellationToken));
            prompt = WorkflowOverride.ApplyAll(prompt, overrides, catalog);
        }
        catch (Exception ex) when (ex is WorkflowFormatException or WorkflowOverrideException)
        {
            await stderr.WriteLineAsync($"{ValidationErrorTypes.InvalidPrompt}: {ex.Message}");
            return InvalidWorkflow;
        }

        var submitted = engine.Submit(prompt);
        if (submitted.Status != SubmitStatus.Queued)
        {
            await PrintValidationErrors(submitted.Validation!, stderr);
            return InvalidWorkflow;
        }

        using var cancelJob = cancellationToken.Register(() => engine.Cancel(submitted.JobId!));
        var display = new ProgressDisplay(catalog, stdout);
        JobEvent? last = null;
        await foreach (var e in engine.Subscribe(submitted.JobId!))
        {
            await display.WriteAsync(e);
            last = e;
        }

        switch (last)
        {
            case JobSucceeded:
                var job = engine.GetJob(submitted.JobId!)!;
                foreach (var (nodeId, ui) in job.Outputs)
                    await stdout.WriteLineAsync($"output {nodeId}: {JsonSerializer.Serialize(ui)}");
                return Success;
            case JobFailed failed:
                await stderr.WriteLineAsync($"error: node {failed.NodeId} ({failed.ClassType}) failed: {failed.ErrorType}: {failed.Message}");
                return NodeFailed;
            default:
                await stderr.WriteLineAsync("cancelled");
                return NodeFailed;
        }
    }

    /// <summary>One line per error: type, node id, input name, message and details.</summary>
    private static async Task PrintValidationErrors(ValidationResult validation, TextWriter stderr)
    {
        foreach (var (nodeId, classType, error) in validation.AllErrors())
        {
            var where = nodeId is null ? "workflow" : $"node {nodeId} ({classType})";
            var input = error.InputName is { } name ? $" input {name}" : "";
            var details = string.IsNullOrEmpty(error.Details) ? "" : $" [{error.Details.ReplaceLineEndings("; ")}]";
            await stderr.WriteLineAsync($"{error.Type}: {where}{input}: {error.Message}{details}");
        }
    }

    /// <summary>Plain-text progress: a line per node started, progress tick and node finished.</summary>
    private sealed class ProgressDisplay(NodeCatalog catalog, TextWriter stdout)
    {
        private readonly Dictionary<string, long> _startedAt = new();

        public Task WriteAsync(JobEvent e) => e switch
        {
            JobStarted => stdout.WriteLineAsync("started"),
            NodesCached { NodeIds.Count: > 0 } c => stdout.WriteLineAsync($"cached: {string.Join(", ", c.NodeIds)}"),
            NodeStarted s => Started(s),
            NodeProgress p => stdout.WriteLineAsync($"[{p.NodeId}] {Number(p.Value)}/{Number(p.Max)}{Details(p.Details)}"),
            NodeFinished { FromCache: false } f => stdout.WriteLineAsync($"[{f.NodeId}] {f.ClassType} finished in {Seconds(f.NodeId)}"),
            JobSucceeded => stdout.WriteLineAsync("succeeded"),
            _ => Task.CompletedTask,
        };

        private Task Started(NodeStarted s)
        {
            _startedAt[s.NodeId] = Stopwatch.GetTimestamp();
            var name = catalog.Find(s.ClassType)?.EffectiveDisplayName ?? s.ClassType;
            return stdout.WriteLineAsync($"[{s.NodeId}] {name} started");
        }

        private string Seconds(string nodeId) => _startedAt.TryGetValue(nodeId, out var t)
            ? Stopwatch.GetElapsedTime(t).TotalSeconds.ToString("0.00", CultureInfo.InvariantCulture) + " s"
            : "?";

        private static string Number(double v) => v.ToString("0.##", CultureInfo.InvariantCulture);

        // A training step's loss, lr, ETA …: " loss=0.1234 lr=0.0005".
        private static string Details(IReadOnlyDictionary<string, object?>? details) => details is null ? "" :
            string.Concat(details.Select(d => " " + d.Key + "=" + (d.Value is double x ? x.ToString("G4", CultureInfo.InvariantCulture) : Convert.ToString(d.Value, CultureInfo.InvariantCulture))));
    }
}
