using System.Text.Json.Nodes;
using CharacterGen.GraphRuntime.WorkflowFormat;
using static CharacterGen.GraphRuntime.Validation.ValidationErrorTypes;

namespace CharacterGen.GraphRuntime.Tests;

public class StrictJsonTests
{
    [Test]
    public void Duplicate_keys_are_refused_at_any_depth()
    {
        Assert.Throws<WorkflowFormatException>(() => Prompts.Api("""{"7": {"class_type": "A"}, "7": {"class_type": "B"}}"""));
        Assert.Throws<WorkflowFormatException>(() => Prompts.Api("""{"7": {"class_type": "A", "inputs": {"steps": 1, "steps": 2}}}"""));
    }

    [Test]
    public void Depth_and_size_limits_apply_before_the_graph_is_built()
    {
        var deep = new string('[', 10_000) + new string(']', 10_000);
        Assert.Throws<WorkflowFormatException>(() => ApiWorkflow.Parse($$$$"""{"1": {"inputs": {"x": {{{{deep}}}}}}}"""));
        var big = $$$$"""{"1": {"class_type": "Text", "inputs": {"text": "{{{{new string('x', 2000)}}}}"}}}""";
        Assert.Throws<WorkflowFormatException>(() => ApiWorkflow.Parse(big, new Json.JsonLimits { MaxBytes = 1000 }));
        Assert.DoesNotThrow(() => ApiWorkflow.Parse(big));
    }

    [Test]
    public void Non_object_nodes_are_refused()
    {
        Assert.Throws<WorkflowFormatException>(() => Prompts.Api("""[1, 2]"""));
        Assert.Throws<WorkflowFormatException>(() => Prompts.Api("""{"1": 5}"""));
        Assert.Throws<WorkflowFormatException>(() => Prompts.Api("""{"1": {"class_type": "A", "inputs": [1]}}"""));
    }

    [Test]
    public void The_engine_reports_unreadable_json_as_invalid_prompt()
    {
        using var nodes = new TestNodes();
        using var engine = nodes.Engine();
        var r = engine.Validate("""{"1": {"class_type": "Const", "class_type": "Const"}}""");
        Assert.That(r.Error!.Type, Is.EqualTo(InvalidPrompt));
        Assert.That(JsonNode.Parse(r.ToJsonString())!["node_errors"]!.AsObject().Count, Is.Zero);
    }
}
