using System.Text.Json.Nodes;
using CharacterGen.GraphRuntime.Execution;
using CharacterGen.GraphRuntime.WorkflowFormat;

namespace CharacterGen.GraphRuntime.Tests;

public class UiWorkflowTests
{
    // What ComfyUI's "Save" writes: a reroute (10) between the loader and the sampler, a primitive (11)
    // driving Const.value, a bypassed Add (6), a muted Output (8), a note (9), a group, and a seed
    // whose widget values include control_after_generate ("randomize").
    private const string Saved = """
        {"last_node_id": 12, "last_link_id": 7,
         "nodes": [
          {"id": 4, "type": "LoadModel", "mode": 0, "inputs": [], "outputs": [{"name": "MODEL", "type": "MODEL", "links": [1]}],
           "widgets_values": ["a.safetensors"]},
          {"id": 10, "type": "Reroute", "mode": 0, "inputs": [{"name": "", "type": "*", "link": 1}],
           "outputs": [{"name": "", "type": "MODEL", "links": [2]}]},
          {"id": 3, "type": "Sample", "mode": 0, "title": "My sampler",
           "inputs": [{"name": "model", "type": "MODEL", "link": 2}, {"name": "seed", "type": "INT", "link": null, "widget": {"name": "seed"}}],
           "outputs": [{"name": "LATENT", "type": "LATENT", "links": [6]}],
           "widgets_values": [156680208700286, "randomize", 20]},
          {"id": 11, "type": "PrimitiveNode", "mode": 0, "inputs": [], "outputs": [{"name": "INT", "type": "INT", "links": [3], "widget": {"name": "value"}}],
           "widgets_values": [7, "fixed"]},
          {"id": 5, "type": "Const", "mode": 0, "inputs": [{"name": "value", "type": "INT", "link": 3, "widget": {"name": "value"}}],
           "outputs": [{"name": "INT", "type": "INT", "links": [4, 7]}], "widgets_values": [7]},
          {"id": 6, "type": "Add", "mode": 4,
           "inputs": [{"name": "a", "type": "INT", "link": 4, "widget": {"name": "a"}}, {"name": "b", "type": "INT", "link": null, "widget": {"name": "b"}}],
           "outputs": [{"name": "sum", "type": "INT", "links": [5]}], "widgets_values": [0, 100]},
          {"id": 7, "type": "Output", "mode": 0, "inputs": [{"name": "value", "type": "*", "link": 5}], "outputs": []},
          {"id": 8, "type": "Output", "mode": 2, "inputs": [{"name": "value", "type": "*", "link": 7}], "outputs": []},
          {"id": 9, "type": "Note", "mode": 0, "inputs": [], "outputs": [], "widgets_values": ["remember the milk"]},
          {"id": 12, "type": "Output", "mode": 0, "inputs": [{"name": "value", "type": "*", "link": 6}], "outputs": []}
         ],
         "links": [[1, 4, 0, 10, 0, "MODEL"], [2, 10, 0, 3, 0, "MODEL"], [3, 11, 0, 5, 0, "INT"], [4, 5, 0, 6, 0, "INT"],
                   [5, 6, 0, 7, 0, "INT"], [6, 3, 0, 12, 0, "LATENT"], [7, 5, 0, 8, 0, "INT"]],
         "groups": [{"title": "Sampling", "bounding": [0, 0, 100, 100]}],
         "config": {}, "extra": {}, "version": 0.4}
        """;

    [Test]
    public void The_saved_format_converts_to_api_format()
    {
        using var nodes = new TestNodes();
        var api = WorkflowLoader.Load(Saved, nodes.Catalog);
        Assert.That(api.NodeIds, Is.EqualTo(new[] { "4", "3", "5", "7", "12" }), "reroute, primitive, bypassed, muted and note nodes are gone");
        Assert.That(api.Inputs("4").ToJsonString(), Is.EqualTo("""{"ckpt_name":"a.safetensors"}"""));
        Assert.That(api.Inputs("3").ToJsonString(), Is.EqualTo("""{"seed":156680208700286,"steps":20,"model":["4",0]}"""),
            "the reroute is followed; control_after_generate's value is skipped");
        Assert.That(api.Inputs("5").ToJsonString(), Is.EqualTo("""{"value":7}"""), "the primitive becomes a literal");
        Assert.That(api.Inputs("7").ToJsonString(), Is.EqualTo("""{"value":["5",0]}"""), "the bypassed Add passes its INT input through");
        Assert.That(api.Title("3"), Is.EqualTo("My sampler"));
        Assert.That(api.Title("5"), Is.EqualTo("Constant"));
        Assert.That(api.ClassType("12"), Is.EqualTo("Output"));
    }

    [Test]
    public async Task The_converted_workflow_runs()
    {
        using var nodes = new TestNodes();
        await using var engine = nodes.Engine();
        var job = await engine.RunAsync(Saved);
        Assert.That(job.Status, Is.EqualTo(JobStatus.Succeeded), job.Error?.Message);
        Assert.That(job.Outputs["7"]["value"], Is.EqualTo(new List<object?> { 7L }));
        Assert.That(job.Outputs["12"]["value"], Is.EqualTo(new List<object?> { "latent(model:a.safetensors,156680208700286,20)" }));
        Assert.That(nodes.Executed, Does.Not.Contain("6").And.Not.Contain("8"));
    }

    [Test]
    public void Link_objects_and_widget_dictionaries_are_read_too()
    {
        using var nodes = new TestNodes();
        var api = WorkflowLoader.Load("""
            {"nodes": [
              {"id": 1, "type": "Add", "inputs": [], "outputs": [], "widgets_values": {"a": 2, "b": 3}},
              {"id": 2, "type": "Output", "inputs": [{"name": "value", "type": "*", "link": 9}], "outputs": []}],
             "links": [{"id": 9, "origin_id": 1, "origin_slot": 0, "target_id": 2, "target_slot": 0, "type": "INT"}]}
            """, nodes.Catalog);
        Assert.That(api.Inputs("1").ToJsonString(), Is.EqualTo("""{"a":2,"b":3}"""));
        Assert.That(api.Inputs("2").ToJsonString(), Is.EqualTo("""{"value":["1",0]}"""));
    }

    [Test]
    public void A_list_widget_value_is_wrapped_so_it_is_not_read_as_a_link()
    {
        using var nodes = new TestNodes();
        var api = WorkflowLoader.Load("""
            {"nodes": [{"id": 1, "type": "Text", "inputs": [], "outputs": [], "widgets_values": [["4", 0], false]}], "links": []}
            """, nodes.Catalog);
        Assert.That(api.Inputs("1")["text"]!.ToJsonString(), Is.EqualTo("""{"__value__":["4",0]}"""));
    }

    [Test]
    public void Subgraphs_are_refused_with_a_clear_message()
    {
        using var nodes = new TestNodes();
        var ex = Assert.Throws<WorkflowFormatException>(() => WorkflowLoader.Load(
            """{"nodes": [], "links": [], "definitions": {"subgraphs": [{"id": "x"}]}}""", nodes.Catalog));
        Assert.That(ex!.Message, Does.Contain("subgraphs"));
    }

    [Test]
    public void Api_format_is_left_alone()
    {
        using var nodes = new TestNodes();
        var api = WorkflowLoader.Load("""{"1": {"class_type": "Const", "inputs": {"value": 1}}}""", nodes.Catalog);
        Assert.That(api.ToJsonString(), Is.EqualTo("""{"1":{"class_type":"Const","inputs":{"value":1}}}"""));
        Assert.That(WorkflowLoader.IsUiFormat(JsonNode.Parse(Saved)!), Is.True);
    }
}

public class OverrideTests
{
    private static readonly ApiWorkflow Workflow = ApiWorkflow.Parse("""
        {"1": {"class_type": "Text", "inputs": {"text": "a", "upper": false}},
         "2": {"class_type": "Output", "inputs": {"value": ["1", 0]}}}
        """);

    [Test]
    public void Values_are_json_literals_when_they_parse_and_strings_otherwise()
    {
        using var nodes = new TestNodes();
        var result = WorkflowOverride.ApplyAll(Workflow,
            ["1.text=hello world", "1.upper=true", "1.mode=\"fancy\"", "2.value=[\"1\",0]"], nodes.Catalog);
        Assert.That(result.Inputs("1").ToJsonString(), Is.EqualTo("""{"text":"hello world","upper":true,"mode":"fancy"}"""));
        Assert.That(Workflow.Inputs("1")["text"]!.GetValue<string>(), Is.EqualTo("a"), "the original is not modified");
        Assert.That(WorkflowOverride.Parse("3.seed=42").Value!.GetValue<long>(), Is.EqualTo(42));
        Assert.That(WorkflowOverride.Parse("3.cfg=7.5").Value!.GetValue<double>(), Is.EqualTo(7.5));
        Assert.That(WorkflowOverride.Parse("3.text=a=b").Value!.GetValue<string>(), Is.EqualTo("a=b"));
    }

    [TestCase("9.text=x", "no node '9'")]
    [TestCase("1.nope=x", "has no input 'nope'")]
    [TestCase("1text=x", "NODE_ID.INPUT=VALUE")]
    [TestCase("1.text", "NODE_ID.INPUT=VALUE")]
    [TestCase(".text=x", "NODE_ID.INPUT=VALUE")]
    public void Unknown_nodes_inputs_and_malformed_assignments_are_clear_errors(string assignment, string message)
    {
        using var nodes = new TestNodes();
        var ex = Assert.Throws<WorkflowOverrideException>(() => WorkflowOverride.ApplyAll(Workflow, [assignment], nodes.Catalog));
        Assert.That(ex!.Message, Does.Contain(message));
    }
}
