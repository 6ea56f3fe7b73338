using CharacterGen.GraphRuntime.Contracts;

namespace CharacterGen.GraphRuntime.Tests;

/// <summary>The node layer can call a node's Execute without an engine.</summary>
public class NodeUnitTestingTests
{
    [Test]
    public void A_node_runs_against_a_detached_context_and_hand_made_inputs()
    {
        using var nodes = new TestNodes();
        var add = nodes.Catalog.Find("Add")!;
        var output = add.Execute(NodeContext.Detached(), NodeInputs.From([new("a", 2L), new("b", 3L)]));
        Assert.That(output.Values, Is.EqualTo(new object?[] { 5L }));
    }

    [Test]
    public void Progress_and_cancellation_work_on_a_detached_context()
    {
        using var nodes = new TestNodes();
        nodes.Gate.Set();
        var ticks = new List<double>();
        var steps = nodes.Catalog.Find("Steps")!;
        steps.Execute(NodeContext.Detached(onProgress: (v, _, _) => ticks.Add(v)), NodeInputs.From([new("steps", 2L)]));
        Assert.That(ticks, Is.EqualTo(new[] { 1.0, 2.0 }));

        using var cts = new CancellationTokenSource();
        cts.Cancel();
        Assert.Throws<OperationCanceledException>(() =>
            steps.Execute(NodeContext.Detached(cancellationToken: cts.Token), NodeInputs.From([new("steps", 2L)])));
    }
}
