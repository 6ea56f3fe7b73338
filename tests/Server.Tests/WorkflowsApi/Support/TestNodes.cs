using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using CharacterGen.GraphRuntime.Contracts;
using CharacterGen.Nodes.Files;

namespace CharacterGen.Server.Tests.WorkflowsApi.Support;

/// <summary>
/// Gates a node waits at, keyed by a string input so tests sharing a server stay independent. A node
/// marks its gate entered, then waits until the test releases it or the job is cancelled.
/// </summary>
public sealed class NodeGates
{
    private sealed record Gate(TaskCompletionSource Entered, TaskCompletionSource Released);

    private readonly ConcurrentDictionary<string, Gate> _gates = new();

    /// <summary>Completes when a node has reached the gate.</summary>
    public Task Entered(string key) => GateFor(key).Entered.Task;

    public void Release(string key) => GateFor(key).Released.TrySetResult();

    /// <summary>Opens every gate (test tear-down: nothing stays blocked).</summary>
    public void ReleaseAll()
    {
        foreach (var gate in _gates.Values) gate.Released.TrySetResult();
    }

    /// <summary>Called on the execution thread; throws OperationCanceledException when the job is cancelled.</summary>
    public void Pass(string key, CancellationToken cancellationToken)
    {
        var gate = GateFor(key);
        gate.Entered.TrySetResult();
        gate.Released.Task.Wait(cancellationToken);
    }

    private Gate GateFor(string key) => _gates.GetOrAdd(key, _ => new Gate(
        new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously),
        new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)));
}

/// <summary>
/// The node catalogue of the Workflows API tests (and the real-client scripts): constants, a slow node that
/// reports progress and waits at a gate, a node that throws, and output nodes with ui outputs (one writes a file).
/// </summary>
public static class TestNodes
{
    /// <summary>The preview bytes the Steps node sends with its first progress tick.</summary>
    public static readonly byte[] Preview = [0x89, (byte)'P', (byte)'N', (byte)'G'];

    public static NodeCatalog Catalog(NodeGates gates) => new(
    [
        new NodeBuilder("Const").Category("test").DisplayName("Constant")
            .Required(InputSpec.Int("value", 0, -1_000_000, 1_000_000))
            .Output(IoTypes.Int, "INT")
            .Execute((_, i) => NodeOutput.Of(i.Get<long>("value")))
            .Build(),

        new NodeBuilder("Add").Category("test/math")
            .Required(InputSpec.Int("a", 0)).Required(InputSpec.Int("b", 0))
            .Output(IoTypes.Int, "sum")
            .Execute((_, i) => NodeOutput.Of(i.Get<long>("a") + i.Get<long>("b")))
            .Build(),

        // Reports progress step by step (a preview with the first tick); with a gate, waits there after step 1.
        new NodeBuilder("Steps").Category("test/sampling")
            .Required(InputSpec.Int("value", 0))
            .Required(InputSpec.Int("steps", 2, 1, 100))
            .Optional(InputSpec.String("gate", ""))
            .Output(IoTypes.Int)
            .Execute((ctx, i) =>
            {
                var steps = i.Get<long>("steps");
                var gate = i.GetOrDefault("gate", "");
                for (var s = 1; s <= steps; s++)
                {
                    ctx.ReportProgress(s, steps, s == 1 ? Preview : null);
                    if (s == 1 && gate.Length > 0) gates.Pass(gate, ctx.CancellationToken);
                }
                return NodeOutput.Of(i.Get<long>("value"));
            })
            .Build(),

        new NodeBuilder("Fail").Category("test")
            .Required(InputSpec.Int("value", 0))
            .Required(InputSpec.String("message", "boom"))
            .Output(IoTypes.Int)
            .Execute((_, i) => throw new InvalidOperationException(i.Get<string>("message")))
            .Build(),

        new NodeBuilder("Format").Category("test/text")
            .Required(InputSpec.Link("value", IoTypes.Int))
            .Required(InputSpec.String("text", "n="))
            .Required(InputSpec.Boolean("upper", false))
            .Required(InputSpec.Float("scale", 1.0, -100, 100, 0.5))
            .Output(IoTypes.String)
            .Execute((_, i) =>
            {
                var scaled = (i.Get<long>("value") * i.Get<double>("scale")).ToString(CultureInfo.InvariantCulture);
                var text = i.Get<string>("text") + scaled;
                return NodeOutput.Of(i.Get<bool>("upper") ? text.ToUpperInvariant() : text);
            })
            .Build(),

        new NodeBuilder("Show").Category("test").OutputNode()
            .Required(InputSpec.Link("value", IoTypes.Any))
            .Execute((_, i) => new NodeOutput([], new Dictionary<string, object?> { ["value"] = new List<object?> { i["value"] } }))
            .Build(),

        // ComfyUI's SaveImage shape: writes a file to the output folder and names it in ui.images.
        new NodeBuilder("SaveText").Category("test").OutputNode()
            .Required(InputSpec.Link("value", IoTypes.Any))
            .Required(InputSpec.String("filename_prefix", "test"))
            .Execute((ctx, i) =>
            {
                var folders = ctx.GetRequiredService<DataFolders>();
                var name = $"{i.Get<string>("filename_prefix")}_{ctx.JobId}.png";
                File.WriteAllBytes(SafePath.Resolve(folders.Output, name), FileContent(i["value"]));
                return new NodeOutput([], new Dictionary<string, object?>
                {
                    ["images"] = new List<object?> { new Dictionary<string, object?> { ["filename"] = name, ["subfolder"] = "", ["type"] = "output" } },
                    ["value"] = new List<object?> { i["value"] },
                });
            })
            .Build(),
    ]);

    /// <summary>What SaveText writes for a value.</summary>
    public static byte[] FileContent(object? value) => Encoding.UTF8.GetBytes($"value={value}");
}
