using System.CommandLine;
using CharacterGen.GraphRuntime.Contracts;
using CharacterGen.Server.Cli;

namespace CharacterGen.Server.Tests.Cli;

public class RunCommandTests
{
    private string _dir = null!;
    private RunEnvironment? _environment;

    [SetUp]
    public void SetUp()
    {
        _dir = Path.Combine(Path.GetTempPath(), "cg-run-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_dir);
        _environment = null;
    }

    [TearDown]
    public void TearDown() => Directory.Delete(_dir, recursive: true);

    /// <summary>Test-only nodes: no tensors, just numbers.</summary>
    private NodeCatalog Catalog(RunEnvironment environment)
    {
        _environment = environment;
        return new NodeCatalog([
            new NodeBuilder("Const").DisplayName("Constant").Required(InputSpec.Int("value", 0, -1000, 1000)).Output(IoTypes.Int)
                .Execute((_, i) => NodeOutput.Of(i["value"])).Build(),
            new NodeBuilder("Steps").Required(InputSpec.Int("steps", 3, 1, 100)).Output(IoTypes.Int)
                .Execute((ctx, i) =>
                {
                    var steps = i.Get<long>("steps");
                    for (var s = 1; s <= steps; s++) ctx.ReportProgress(s, steps);
                    return NodeOutput.Of(steps);
                }).Build(),
            new NodeBuilder("Throw").Required(InputSpec.Link("value", IoTypes.Int)).Output(IoTypes.Int)
                .Execute((_, _) => throw new InvalidOperationException("boom")).Build(),
            new NodeBuilder("Show").OutputNode().Required(InputSpec.Link("value", IoTypes.Int))
                .Execute((ctx, i) => new NodeOutput([], new Dictionary<string, object?>
                {
                    ["value"] = new[] { i["value"] },
                    ["out"] = ctx.GetRequiredService<RunEnvironment>().OutputDirectory,
                })).Build(),
        ]);
    }

    private async Task<(int Exit, string Out, string Err)> Run(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var root = new RootCommand("test");
        root.Subcommands.Add(RunCommand.Create(Catalog, stdout, stderr));
        var exit = await root.Parse(args).InvokeAsync(new InvocationConfiguration { Output = stdout, Error = stderr });
        return (exit, stdout.ToString(), stderr.ToString());
    }

    private string Write(string json)
    {
        var path = Path.Combine(_dir, "workflow.json");
        File.WriteAllText(path, json);
        return path;
    }

    private const string Simple = """
        {"1": {"class_type": "Const", "inputs": {"value": 4}},
         "2": {"class_type": "Show", "inputs": {"value": ["1", 0]}}}
        """;

    [Test]
    public async Task A_valid_workflow_runs_with_a_line_per_node_and_exits_0()
    {
        var (exit, output, error) = await Run("run", Write(Simple), "--out", Path.Combine(_dir, "out"));
        Assert.That(exit, Is.EqualTo(0), error);
        var lines = output.Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        Assert.That(lines[0], Is.EqualTo("started"));
        Assert.That(lines[1], Is.EqualTo("[1] Constant started"));
        Assert.That(lines[2], Does.Match(@"^\[1\] Const finished in \d+\.\d\d s$"));
        Assert.That(lines[3], Is.EqualTo("[2] Show started"));
        Assert.That(output, Does.Contain("output 2: {\"value\":[4],"));
        Assert.That(output, Does.Not.Contain("\u001b"), "plain text, no ANSI escapes");
        Assert.That(_environment!.OutputDirectory, Is.EqualTo(Path.Combine(_dir, "out")));
    }

    [Test]
    public async Task Set_overrides_inputs_before_validation()
    {
        var (exit, output, _) = await Run("run", Write(Simple), "--set", "1.value=9", "--models", _dir);
        Assert.That(exit, Is.EqualTo(0));
        Assert.That(output, Does.Contain("output 2: {\"value\":[9],"));
        Assert.That(_environment!.ModelsDirectory, Is.EqualTo(_dir));
    }

    [Test]
    public async Task Progress_ticks_are_printed()
    {
        var (exit, output, _) = await Run("run", Write("""
            {"1": {"class_type": "Steps", "inputs": {"steps": 2}}, "2": {"class_type": "Show", "inputs": {"value": ["1", 0]}}}
            """));
        Assert.That(exit, Is.EqualTo(0));
        Assert.That(output, Does.Contain("[1] 1/2\n").Or.Contain("[1] 1/2\r\n"));
        Assert.That(output, Does.Contain("[1] 2/2"));
    }

    [Test]
    public async Task Validation_errors_print_type_node_and_input_and_exit_2()
    {
        var (exit, output, error) = await Run("run", Write("""
            {"1": {"class_type": "Const", "inputs": {"value": 5000}},
             "2": {"class_type": "Show", "inputs": {}},
             "3": {"class_type": "Show", "inputs": {"value": ["1", 0]}}}
            """));
        Assert.That(exit, Is.EqualTo(2));
        Assert.That(output, Does.Not.Contain("started"), "nothing runs");
        Assert.That(error, Does.Contain("value_bigger_than_max: node 1 (Const) input value: Value 5000 bigger than max of 1000"));
        Assert.That(error, Does.Contain("required_input_missing: node 2 (Show) input value: Required input is missing"));
        Assert.That(error, Does.Contain("prompt_outputs_failed_validation: workflow: Prompt outputs failed validation"));
    }

    [Test]
    public async Task A_node_failure_prints_node_class_and_message_and_exits_1()
    {
        var (exit, _, error) = await Run("run", Write("""
            {"1": {"class_type": "Const", "inputs": {"value": 1}},
             "2": {"class_type": "Throw", "inputs": {"value": ["1", 0]}},
             "3": {"class_type": "Show", "inputs": {"value": ["2", 0]}}}
            """));
        Assert.That(exit, Is.EqualTo(1));
        Assert.That(error, Does.Contain("error: node 2 (Throw) failed: InvalidOperationException: boom"));
    }

    [TestCase("9.value=1", "no node '9'")]
    [TestCase("1.nope=1", "has no input 'nope'")]
    [TestCase("garbage", "NODE_ID.INPUT=VALUE")]
    public async Task Bad_overrides_exit_2_with_a_clear_message(string assignment, string message)
    {
        var (exit, _, error) = await Run("run", Write(Simple), "--set", assignment);
        Assert.That(exit, Is.EqualTo(2));
        Assert.That(error, Does.Contain(message));
    }

    [Test]
    public async Task Unreadable_or_missing_files_exit_2()
    {
        var (exit, _, error) = await Run("run", Write("""{"1": {"class_type": "Const", "class_type": "Const"}}"""));
        Assert.That(exit, Is.EqualTo(2));
        Assert.That(error, Does.StartWith("invalid_prompt: "));

        (exit, _, error) = await Run("run", Path.Combine(_dir, "missing.json"));
        Assert.That(exit, Is.EqualTo(2));
        Assert.That(error, Does.Contain("not found"));
    }

    [Test]
    public async Task A_saved_ui_workflow_runs_too()
    {
        var (exit, output, error) = await Run("run", Write("""
            {"nodes": [
              {"id": 1, "type": "Const", "mode": 0, "inputs": [], "outputs": [{"name": "INT", "type": "INT", "links": [1]}], "widgets_values": [6]},
              {"id": 2, "type": "Show", "mode": 0, "inputs": [{"name": "value", "type": "INT", "link": 1}], "outputs": []}],
             "links": [[1, 1, 0, 2, 0, "INT"]], "groups": []}
            """));
        Assert.That(exit, Is.EqualTo(0), error);
        Assert.That(output, Does.Contain("output 2: {\"value\":[6],"));
    }
}
