using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using CharacterGen.GraphRuntime.Engine;
using CharacterGen.GraphRuntime.Contracts;
using CharacterGen.GraphRuntime.WorkflowFormat;

namespace CharacterGen.GraphRuntime.Tests;

/// <summary>
/// Test-only nodes over plain numbers, with per-instance bookkeeping so that every test owns its
/// data: which nodes ran (in order), gates for blocking a node deterministically, disposals.
/// </summary>
public sealed class TestNodes : IDisposable
{
    private readonly ConcurrentQueue<string> _executed = new();

    /// <summary>Set when a Blocker or Steps node is inside its call.</summary>
    public ManualResetEventSlim Entered { get; } = new();
    /// <summary>A Blocker / Steps node waits for this before going on.</summary>
    public ManualResetEventSlim Gate { get; } = new();
    public List<string> Models { get; } = ["a.safetensors", "b.safetensors"];
    public Dictionary<string, string> FileHashes { get; } = new();
    public List<TrackedValue> Created { get; } = [];

    /// <summary>Node ids in the order they executed (cached nodes are absent).</summary>
    public IReadOnlyList<string> Executed => _executed.ToArray();
    public void ClearExecuted() => _executed.Clear();

    public NodeCatalog Catalog { get; }

    public TestNodes() => Catalog = new NodeCatalog(Build());

    public WorkflowEngine Engine(EngineOptions? options = null) => new(Catalog, options);

    private IEnumerable<NodeDefinition> Build()
    {
        yield return new NodeBuilder("Const").Category("test").DisplayName("Constant")
            .Required(InputSpec.Int("value", 0, -1000, 1000))
            .Output(IoTypes.Int, "INT")
            .Execute((ctx, i) => Run(ctx, NodeOutput.Of(i.Get<long>("value"))))
            .Build();

        yield return new NodeBuilder("Add").Category("test/math")
            .Required(InputSpec.Int("a", 0))
            .Required(InputSpec.Int("b", 0))
            .Output(IoTypes.Int, "sum")
            .Execute((ctx, i) => Run(ctx, NodeOutput.Of(i.Get<long>("a") + i.Get<long>("b"))))
            .Build();

        yield return new NodeBuilder("Scale").Category("test/math")
            .Required(InputSpec.Float("x", 1.0, -10, 10, 0.01) with { Tooltip = "value" })
            .Optional(InputSpec.Float("factor", 1.0, 0.0, 100.0, 0.1))
            .Output(IoTypes.Float, "FLOAT")
            .Execute((ctx, i) => Run(ctx, NodeOutput.Of(i.Get<double>("x") * i.GetOrDefault("factor", 1.0))))
            .Build();

        yield return new NodeBuilder("Output").Category("test").OutputNode()
            .Required(InputSpec.Link("value", IoTypes.Any))
            .Execute((ctx, i) => Run(ctx, new NodeOutput([], new Dictionary<string, object?> { ["value"] = new List<object?> { i["value"] } })))
            .Build();

        yield return new NodeBuilder("Text").Category("test")
            .Required(InputSpec.String("text", "", multiline: true))
            .Required(InputSpec.Boolean("upper", false))
            .Optional(InputSpec.Combo("mode", ["plain", "fancy"], "plain"))
            .Output(IoTypes.String)
            .Execute((ctx, i) => Run(ctx, NodeOutput.Of(i.Get<bool>("upper") ? i.Get<string>("text").ToUpperInvariant() : i.Get<string>("text"))))
            .Build();

        yield return new NodeBuilder("LoadModel").Category("test/loaders")
            .Required(InputSpec.Combo("ckpt_name", () => Models))
            .Output(IoTypes.Model).Output(IoTypes.Clip)
            .Execute((ctx, i) => Run(ctx, NodeOutput.Of("model:" + i.Get<string>("ckpt_name"), "clip")))
            .Build();

        yield return new NodeBuilder("Sample").Category("test/sampling")
            .Required(InputSpec.Link("model", IoTypes.Model))
            .Required(InputSpec.Seed())
            .Required(InputSpec.Int("steps", 20, 1, 10000))
            .Output(IoTypes.Latent)
            .Execute((ctx, i) => Run(ctx, NodeOutput.Of($"latent({i["model"]},{i["seed"]},{i["steps"]})")))
            .Build();

        yield return new NodeBuilder("Blocker").Category("test")
            .Required(InputSpec.Int("value", 0))
            .Output(IoTypes.Int)
            .Execute((ctx, i) =>
            {
                Entered.Set();
                Gate.Wait(ctx.CancellationToken);
                return Run(ctx, NodeOutput.Of(i.Get<long>("value")));
            })
            .Build();

        // Reports progress each step; after the first step waits on Gate so tests can act mid-run.
        yield return new NodeBuilder("Steps").Category("test")
            .Required(InputSpec.Int("steps", 3, 1, 100))
            .Output(IoTypes.Int)
            .Execute((ctx, i) =>
            {
                var steps = i.Get<long>("steps");
                for (var s = 1; s <= steps; s++)
                {
                    ctx.ReportProgress(s, steps, s == 1 ? new byte[] { 1, 2, 3 } : null);
                    if (s == 1)
                    {
                        Entered.Set();
                        Gate.Wait();
                    }
                }
                return Run(ctx, NodeOutput.Of(steps));
            })
            .Build();

        yield return new NodeBuilder("Throw").Category("test")
            .Required(InputSpec.Int("value", 0))
            .Output(IoTypes.Int)
            .Execute((ctx, _) => { Run(ctx, NodeOutput.Empty); throw new InvalidOperationException("boom"); })
            .Build();

        yield return new NodeBuilder("Range").Category("test/lists")
            .Required(InputSpec.Int("count", 3, 0, 100))
            .Output(IoTypes.Int, "values", isList: true)
            .Execute((ctx, i) => Run(ctx, NodeOutput.Of(Enumerable.Range(1, (int)i.Get<long>("count")).Select(v => (object?)(long)v).ToList())))
            .Build();

        yield return new NodeBuilder("SumList").Category("test/lists").InputIsList()
            .Required(InputSpec.Int("values", 0))
            .Output(IoTypes.Int)
            .Execute((ctx, i) => Run(ctx, NodeOutput.Of(i.GetList("values").Sum(v => (long)v!))))
            .Build();

        yield return new NodeBuilder("Switch").Category("test/logic")
            .Required(InputSpec.Boolean("condition", true))
            .Required(InputSpec.Link("on_true", IoTypes.Int) with { Lazy = true })
            .Required(InputSpec.Link("on_false", IoTypes.Int) with { Lazy = true })
            .Output(IoTypes.Int)
            .CheckLazyStatus((_, i) => [i.Get<bool>("condition") ? "on_true" : "on_false"])
            .Execute((ctx, i) => Run(ctx, NodeOutput.Of(i.Get<bool>("condition") ? i["on_true"] : i["on_false"])))
            .Build();

        yield return new NodeBuilder("Concat").Category("test").DynamicInputs("value", IoTypes.Int)
            .Required(InputSpec.Link("value1", IoTypes.Int))
            .Output(IoTypes.String)
            .Execute((ctx, i) => Run(ctx, NodeOutput.Of(string.Join(",", i.All.Select(kv => $"{kv.Key}={kv.Value}")))))
            .Build();

        yield return new NodeBuilder("LoadFile").Category("test/loaders")
            .Required(InputSpec.String("path", ""))
            .Output(IoTypes.String)
            .Validate(l => FileHashes.ContainsKey(l.Get<string>("path")) ? null : $"file '{l.Get<string>("path")}' not found", "path")
            .Fingerprint(l => FileHashes.GetValueOrDefault(l.Get<string>("path")))
            .Execute((ctx, i) => Run(ctx, NodeOutput.Of("content:" + FileHashes[i.Get<string>("path")])))
            .Build();

        yield return new NodeBuilder("EmptyLatent").Category("test/latent")
            .Required(InputSpec.Int("width", 512, 16, 16384, 8))
            .Required(InputSpec.Int("height", 512, 16, 16384, 8))
            .Required(InputSpec.Int("batch_size", 1, 1, 4096))
            .Output(IoTypes.Latent)
            .EstimateCost(l => (double)l.Get<long>("width") * l.Get<long>("height") * l.Get<long>("batch_size"))
            .Execute((ctx, i) => Run(ctx, NodeOutput.Of("latent")))
            .Build();

        yield return new NodeBuilder("Hidden").Category("test").OutputNode()
            .Required(InputSpec.Int("value", 0))
            .Hidden("prompt", HiddenInputs.Prompt).Hidden("extra_pnginfo", HiddenInputs.ExtraPngInfo).Hidden("unique_id", HiddenInputs.UniqueId)
            .Execute((ctx, i) => Run(ctx, new NodeOutput([], new Dictionary<string, object?>
            {
                ["unique_id"] = i["unique_id"],
                ["prompt_nodes"] = ((JsonObject)i["prompt"]!).Count,
                ["pnginfo"] = (i["extra_pnginfo"] as JsonNode)?.ToJsonString(),
            })))
            .Build();

        // Produces an IDisposable value, to check that evicted cache entries are disposed.
        yield return new NodeBuilder("MakeTracked").Category("test")
            .Required(InputSpec.Int("value", 0))
            .Output("TRACKED")
            .Execute((ctx, i) =>
            {
                var v = new TrackedValue(i.Get<long>("value"));
                lock (Created) Created.Add(v);
                return Run(ctx, NodeOutput.Of(v));
            })
            .Build();

        yield return new NodeBuilder("PassTracked").Category("test")
            .Required(InputSpec.Link("value", "TRACKED"))
            .Required(InputSpec.Int("tag", 0))
            .Output("TRACKED")
            .Execute((ctx, i) => Run(ctx, NodeOutput.Of(i["value"])))
            .Build();
    }

    private NodeOutput Run(NodeContext ctx, NodeOutput output)
    {
        _executed.Enqueue(ctx.NodeId);
        return output;
    }

    public void Dispose()
    {
        Gate.Set();
        Entered.Dispose();
        Gate.Dispose();
    }
}

public sealed class TrackedValue(long value) : IDisposable
{
    public long Value { get; } = value;
    public int Disposals { get; private set; }
    public void Dispose() => Disposals++;
}

/// <summary>Shorthands for API-format prompts written as JSON text.</summary>
public static class Prompts
{
    public static ApiWorkflow Api(string json) => ApiWorkflow.Parse(json);
}
