using System.Text.Json.Nodes;
using CharacterGen.GraphRuntime.Execution;
using CharacterGen.Protos.V1;
using CharacterGen.Server.Grpc;
using CharacterGen.Server.Tests.Grpc.Support;
using CharacterGen.Server.Tests.WorkflowsApi.Support;
using Google.Rpc;
using static CharacterGen.Server.Tests.WorkflowsApi.Support.TestWorkflows;

namespace CharacterGen.Server.Tests.WorkflowsApi;

/// <summary>Submit and Validate: validation errors, idempotency, saved workflows, typed overrides.</summary>
public sealed class SubmitTests : WorkflowsFixture
{
    /// <summary>Const without its value; Steps with steps=0 (min 1).</summary>
    private const string Broken = """
        {
          "1": {"class_type": "Const", "inputs": {}},
          "2": {"class_type": "Steps", "inputs": {"value": ["1", 0], "steps": 0}},
          "3": {"class_type": "Show", "inputs": {"value": ["2", 0]}}
        }
        """;

    private static (BadRequest BadRequest, ErrorInfo? Info) Details(GrpcCallResult result)
    {
        var details = result.RichStatus?.Details ?? throw new AssertionException("no grpc-status-details-bin");
        var badRequest = details.Single(d => d.Is(BadRequest.Descriptor)).Unpack<BadRequest>();
        var info = details.SingleOrDefault(d => d.Is(ErrorInfo.Descriptor))?.Unpack<ErrorInfo>();
        return (badRequest, info);
    }

    private string SaveWorkflow(string name, string json)
    {
        var path = Path.Combine(Server.Options.WorkflowsDir, name);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, json);
        return path;
    }

    [Test]
    public async Task An_invalid_workflow_is_refused_with_a_field_violation_per_bad_input()
    {
        var jobsBefore = Server.Engine.ListJobs().Count;

        var result = await Workflows.CallAsync("Submit", WorkflowsClient.Inline(Broken));

        Assert.That(result.Status, Is.EqualTo(StatusCode.InvalidArgument));
        var (badRequest, info) = Details(result);
        var violations = badRequest.FieldViolations.ToDictionary(v => v.Field, v => v.Description);
        Assert.That(violations.Keys, Is.SupersetOf(new[] { "nodes[\"1\"].inputs.value", "nodes[\"2\"].inputs.steps" }));
        Assert.That(violations["nodes[\"1\"].inputs.value"], Does.StartWith("required_input_missing: "));
        Assert.That(violations["nodes[\"2\"].inputs.steps"], Does.StartWith("value_smaller_than_min: "));
        Assert.That(info!.Reason, Is.EqualTo("WORKFLOW_INVALID"));
        var comfy = JsonNode.Parse(info.Metadata["comfy_error"])!;
        Assert.That(comfy["node_errors"]!.AsObject().Select(p => p.Key), Is.EquivalentTo(new[] { "1", "2" }));
        Assert.That(result.StatusMessage, Does.StartWith("The workflow is invalid"));
        Assert.That(Server.Engine.ListJobs(), Has.Count.EqualTo(jobsBefore));
    }

    [TestCase("{not json", "invalid_prompt")]
    [TestCase("""{"1": {"class_type": "NoSuchNode", "inputs": {}}}""", "invalid_prompt")]
    public async Task An_unreadable_or_unknown_workflow_is_refused(string json, string type)
    {
        var result = await Workflows.CallAsync("Submit", WorkflowsClient.Inline(json));

        Assert.That(result.Status, Is.EqualTo(StatusCode.InvalidArgument));
        Assert.That(Details(result).BadRequest.FieldViolations.Select(v => v.Description), Has.Some.StartsWith(type + ": "));
    }

    [Test]
    public async Task A_submission_without_a_workflow_is_refused()
    {
        var result = await Workflows.CallAsync("Submit", new SubmitRequest());

        Assert.That(result.Status, Is.EqualTo(StatusCode.InvalidArgument));
        Assert.That(Details(result).BadRequest.FieldViolations.Single().Field, Is.EqualTo("workflow"));
    }

    [Test]
    public async Task Validate_reports_errors_without_running_anything()
    {
        var jobsBefore = Server.Engine.ListJobs().Count;

        var invalid = await Workflows.OkAsync("Validate", new ValidateRequest { Workflow = new WorkflowSpec { WorkflowJson = Broken } }, ValidateResponse.Parser);
        var valid = await Workflows.OkAsync("Validate", new ValidateRequest { Workflow = new WorkflowSpec { WorkflowJson = Pipeline(1) } }, ValidateResponse.Parser);

        Assert.That(invalid.Valid, Is.False);
        var steps = invalid.Issues.Single(i => i.Field == "nodes[\"2\"].inputs.steps");
        Assert.That((steps.Type, steps.NodeId, steps.ClassType, steps.InputName), Is.EqualTo(("value_smaller_than_min", "2", "Steps", "steps")));
        Assert.That(JsonNode.Parse(invalid.ComfyErrorJson)!["node_errors"]!["2"], Is.Not.Null);
        Assert.That(valid.Valid, Is.True);
        Assert.That(valid.Issues, Is.Empty);
        Assert.That(Server.Engine.ListJobs(), Has.Count.EqualTo(jobsBefore));
    }

    [Test]
    public async Task A_resubmission_with_the_same_client_request_id_returns_the_same_job()
    {
        var key = Key();
        var request = WorkflowsClient.Inline(Pipeline(30));
        request.ClientRequestId = key;

        var first = await Workflows.SubmitAsync(request);
        var again = await Workflows.SubmitAsync(request);
        request.ClientRequestId = Key();
        var other = await Workflows.SubmitAsync(request);

        Assert.That(first.AlreadySubmitted, Is.False);
        Assert.That((again.JobId, again.AlreadySubmitted), Is.EqualTo((first.JobId, true)));
        Assert.That(other.JobId, Is.Not.EqualTo(first.JobId));
        Assert.That(Server.Engine.ListJobs().Count(j => j.ClientRequestId == key), Is.EqualTo(1));
    }

    [Test]
    public async Task A_saved_workflow_runs_by_name_with_typed_overrides()
    {
        SaveWorkflow("characters/format.json", Formatted);
        var request = new RunRequest
        {
            Submit = new SubmitRequest
            {
                Workflow = new WorkflowSpec
                {
                    SavedWorkflow = "characters/format",
                    Overrides = { Set("1.value", 4L), Set("2.text", "v:"), Set("2.upper", true), Set("2.scale", 2.5) },
                },
            },
        };

        var (events, result) = await Workflows.StreamAsync("Run", request);

        Assert.That(result.Status, Is.EqualTo(StatusCode.OK), result.StatusMessage);
        Assert.That(events[^1].Succeeded.Outputs["3"].Fields["value"].ListValue.Values.Single().StringValue, Is.EqualTo("V:10"));
    }

    [Test]
    public async Task An_override_is_validated_like_any_literal()
    {
        var result = await Workflows.CallAsync("Submit", WorkflowsClient.Inline(Formatted, Set("2.scale", 1000.0)));

        Assert.That(result.Status, Is.EqualTo(StatusCode.InvalidArgument));
        var violation = Details(result).BadRequest.FieldViolations.Single(v => v.Field == "nodes[\"2\"].inputs.scale");
        Assert.That(violation.Description, Does.StartWith("value_bigger_than_max: "));
    }

    [TestCase("9.value", "no node '9'")]
    [TestCase("1.nope", "no input 'nope'")]
    [TestCase("1value", "NODE_ID.INPUT_NAME")]
    [TestCase(".value", "NODE_ID.INPUT_NAME")]
    public async Task A_bad_override_target_is_refused_naming_it(string target, string expected)
    {
        var result = await Workflows.CallAsync("Submit", WorkflowsClient.Inline(Formatted, Set(target, 3L)));

        Assert.That(result.Status, Is.EqualTo(StatusCode.InvalidArgument));
        var violation = Details(result).BadRequest.FieldViolations.Single();
        Assert.That(violation.Field, Is.EqualTo("workflow.overrides[0].input"));
        Assert.That(violation.Description, Does.Contain(expected));
    }

    [Test]
    public async Task An_override_without_a_value_or_with_NaN_is_refused()
    {
        var empty = await Workflows.CallAsync("Submit", WorkflowsClient.Inline(Formatted, new InputOverride { Input = "2.scale" }));
        var nan = await Workflows.CallAsync("Submit", WorkflowsClient.Inline(Formatted, Set("2.upper", true), Set("2.scale", double.NaN)));

        Assert.That(Details(empty).BadRequest.FieldViolations.Single().Field, Is.EqualTo("workflow.overrides[0].value"));
        Assert.That(Details(nan).BadRequest.FieldViolations.Single().Field, Is.EqualTo("workflow.overrides[1].double_value"));
    }

    [Test]
    public async Task An_unknown_saved_workflow_is_not_found_without_revealing_paths()
    {
        var result = await Workflows.CallAsync("Submit", new SubmitRequest { Workflow = new WorkflowSpec { SavedWorkflow = "missing" } });

        Assert.That(result.Status, Is.EqualTo(StatusCode.NotFound));
        Assert.That(result.StatusMessage, Does.Contain("missing").And.Not.Contain(Server.Options.WorkflowsDir));
    }

    [TestCase("../outside")]
    [TestCase("../../etc/passwd")]
    [TestCase("/etc/passwd")]
    [TestCase("a/../../outside")]
    [TestCase("link/secret")]
    public async Task A_saved_workflow_name_that_leaves_the_folder_is_refused(string name)
    {
        var outside = Path.Combine(Path.GetDirectoryName(Server.Options.WorkflowsDir)!, "elsewhere");
        Directory.CreateDirectory(outside);
        File.WriteAllText(Path.Combine(outside, "secret.json"), Pipeline(1));
        File.WriteAllText(Path.Combine(Path.GetDirectoryName(Server.Options.WorkflowsDir)!, "outside.json"), Pipeline(1));
        var link = Path.Combine(Server.Options.WorkflowsDir, "link");
        if (!Directory.Exists(link)) Directory.CreateSymbolicLink(link, outside);

        var result = await Workflows.CallAsync("Validate", new ValidateRequest { Workflow = new WorkflowSpec { SavedWorkflow = name } });

        Assert.That(result.Status, Is.EqualTo(StatusCode.InvalidArgument));
        Assert.That(Details(result).BadRequest.FieldViolations.Single().Field, Is.EqualTo("workflow.saved_workflow"));
        Assert.That(result.StatusMessage, Does.Not.Contain(Server.Options.WorkflowsDir));
    }

    [Test]
    public async Task Output_node_ids_run_only_the_chosen_outputs()
    {
        const string twoOutputs = """
            {
              "1": {"class_type": "Const", "inputs": {"value": 1}},
              "2": {"class_type": "Show", "inputs": {"value": ["1", 0]}},
              "3": {"class_type": "Fail", "inputs": {"value": ["1", 0], "message": "must not run"}},
              "4": {"class_type": "Show", "inputs": {"value": ["3", 0]}}
            }
            """;
        var request = WorkflowsClient.Inline(twoOutputs);
        request.Workflow.OutputNodeIds.Add("2");

        var submitted = await Workflows.SubmitAsync(request);

        Assert.That(await Server.FinishedAsync(submitted.JobId), Is.EqualTo(JobStatus.Succeeded));
        Assert.That((await Workflows.GetJobAsync(submitted.JobId)).OutputNodeIds, Is.EqualTo(new[] { "2" }));
    }

    [Test]
    public async Task ListNodeTypes_returns_typed_specs_and_object_info()
    {
        var all = await Workflows.OkAsync("ListNodeTypes", new ListNodeTypesRequest(), ListNodeTypesResponse.Parser);
        var one = await Workflows.OkAsync("ListNodeTypes", new ListNodeTypesRequest { ClassType = "Steps" }, ListNodeTypesResponse.Parser);
        var unknown = await Workflows.CallAsync("ListNodeTypes", new ListNodeTypesRequest { ClassType = "Nope" });

        Assert.That(all.NodeTypes.Select(n => n.ClassType), Is.EqualTo(new[] { "Const", "Add", "Steps", "Fail", "Format", "Show", "SaveText" }));
        Assert.That(JsonNode.Parse(all.ObjectInfoJson)!.AsObject().Select(p => p.Key), Is.EqualTo(all.NodeTypes.Select(n => n.ClassType)));
        var steps = one.NodeTypes.Single();
        Assert.That((steps.Category, steps.OutputNode), Is.EqualTo(("test/sampling", false)));
        Assert.That(steps.Inputs.Select(i => (i.Name, i.Type, i.Section)), Is.EqualTo(new[]
        {
            ("value", "INT", InputSection.Required), ("steps", "INT", InputSection.Required), ("gate", "STRING", InputSection.Optional),
        }));
        var stepsInput = steps.Inputs[1];
        Assert.That((stepsInput.Min, stepsInput.Max, stepsInput.DefaultValue.NumberValue), Is.EqualTo((1.0, 100.0, 2.0)));
        Assert.That(steps.Outputs.Single().Type, Is.EqualTo("INT"));
        Assert.That(JsonNode.Parse(one.ObjectInfoJson)!["Steps"]!["input"]!["required"]!["steps"], Is.Not.Null);
        Assert.That(all.NodeTypes.Single(n => n.ClassType == "SaveText").OutputNode, Is.True);
        Assert.That(unknown.Status, Is.EqualTo(StatusCode.NotFound));
    }
}
