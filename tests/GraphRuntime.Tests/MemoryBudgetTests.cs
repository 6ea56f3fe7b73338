using CharacterGen.GraphRuntime.Contracts;
using CharacterGen.GraphRuntime.Validation;

namespace CharacterGen.GraphRuntime.Tests;

/// <summary>
/// The memory side of validation: node hooks describe their outputs (here a plain size), the validator feeds those
/// descriptions downstream in execution order and refuses the workflow when one node's peak exceeds the budget.
/// </summary>
public sealed class MemoryBudgetTests
{
    // Make(n): peak n, describes n. Grow: peak 3n (input, output 2n), describes 2n. Sink: an output node.
    private static readonly NodeCatalog Catalog = new([
        new NodeBuilder("Make").Required(InputSpec.Int("n", 1, 0, 1_000_000)).Output(IoTypes.Int)
            .EstimateMemory(m => new MemoryEstimate(m.Literals.Get<long>("n"), [m.Literals.Get<long>("n")]))
            .Execute((_, i) => NodeOutput.Of(i.Get<long>("n"))).Build(),
        new NodeBuilder("Grow").Required(InputSpec.Link("x", IoTypes.Int)).Output(IoTypes.Int)
            .EstimateMemory(m => m.Upstream("x") is long n ? new MemoryEstimate(3 * n, [2 * n]) : MemoryEstimate.Unknown)
            .Execute((_, i) => NodeOutput.Of(i.Get<long>("x") * 2)).Build(),
        new NodeBuilder("Broken").Required(InputSpec.Link("x", IoTypes.Int)).Output(IoTypes.Int)
            .EstimateMemory(_ => throw new InvalidOperationException("cannot tell"))
            .Execute((_, i) => NodeOutput.Of(i.Get<long>("x"))).Build(),
        new NodeBuilder("Sink").Required(InputSpec.Link("x", IoTypes.Int)).OutputNode()
            .Execute((_, _) => NodeOutput.Empty).Build(),
    ]);

    private static string Chain(long n, params string[] middle)
    {
        var nodes = new List<string> { $"\"1\": {{\"class_type\": \"Make\", \"inputs\": {{\"n\": {n}}}}}" };
        for (int i = 0; i < middle.Length; i++)
            nodes.Add($"\"{i + 2}\": {{\"class_type\": \"{middle[i]}\", \"inputs\": {{\"x\": [\"{i + 1}\", 0]}}}}");
        nodes.Add($"\"99\": {{\"class_type\": \"Sink\", \"inputs\": {{\"x\": [\"{middle.Length + 1}\", 0]}}}}");
        return "{" + string.Join(",\n", nodes) + "}";
    }

    private static ValidationResult Validate(string json, long? budget) =>
        WorkflowValidator.Validate(Prompts.Api(json), Catalog, new ValidationOptions
        {
            Services = budget is { } b ? new ServiceBag().Add(new MemoryBudget(b)) : new ServiceBag(),
        });

    [Test]
    public void Shapes_flow_downstream_and_the_node_over_the_budget_is_named_with_estimate_and_limit()
    {
        // Make 30 → Grow (peak 90, gives 60) → Grow (peak 180) → Sink, against 100 bytes.
        var r = Validate(Chain(30, "Grow", "Grow"), budget: 100);

        Assert.That(r.IsValid, Is.False);
        Assert.That(r.Error!.Type, Is.EqualTo(ValidationErrorTypes.MemoryBudgetExceeded));
        Assert.That(r.Error.Message, Does.Contain("Node 3 (Grow)").And.Contain("180 bytes").And.Contain("100 bytes"));
        Assert.That(r.NodeErrors.Keys, Is.EqualTo(new[] { "3" }), "only the node that does not fit");
        Assert.That(r.NodeErrors["3"].Errors.Single().ExtraInfo!["estimated_bytes"]!.GetValue<long>(), Is.EqualTo(180));
        Assert.That(r.NodeErrors["3"].Errors.Single().ExtraInfo!["limit_bytes"]!.GetValue<long>(), Is.EqualTo(100));
    }

    [Test]
    public void Within_the_budget_or_without_one_the_workflow_is_valid()
    {
        Assert.That(Validate(Chain(30, "Grow", "Grow"), budget: 180).IsValid, Is.True);
        Assert.That(Validate(Chain(1_000_000, "Grow", "Grow"), budget: null).IsValid, Is.True);
    }

    [Test]
    public void A_hook_that_cannot_tell_refuses_nothing_and_hides_the_shape_from_downstream()
    {
        Assert.That(Validate(Chain(1_000, "Broken", "Grow"), budget: 2_000).IsValid, Is.True, "Grow would need 3,000 if it knew its input");
    }
}
