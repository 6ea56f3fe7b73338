using CharacterGen.GraphRuntime.Execution;
using CharacterGen.Protos.V1;
using CharacterGen.Server.Grpc;
using CharacterGen.Server.Tests.Grpc.Support;
using CharacterGen.Server.Tests.WorkflowsApi.Support;
using Google.Protobuf.WellKnownTypes;
using Case = CharacterGen.Protos.V1.JobEvent.EventOneofCase;

namespace CharacterGen.Server.Tests.WorkflowsApi;

/// <summary>Workflows.Run: the event stream, outputs, failures, and how the call's end affects the job.</summary>
public sealed class RunTests : WorkflowsFixture
{
    private static RunRequest Run(string workflowJson, bool inline = false, bool continueOnDisconnect = false) => new()
    {
        Submit = WorkflowsClient.Inline(workflowJson),
        InlineOutputs = inline,
        ContinueOnDisconnect = continueOnDisconnect,
    };

    [Test]
    public async Task Run_streams_every_event_of_the_job_in_order()
    {
        var (events, result) = await Workflows.StreamAsync("Run", Run(TestWorkflows.Pipeline(5)));

        Assert.That(result.Status, Is.EqualTo(StatusCode.OK), result.StatusMessage);
        Assert.That(events.Select(e => e.EventCase), Is.EqualTo(new[]
        {
            Case.Queued, Case.Started, Case.NodesCached,
            Case.NodeStarted, Case.NodeFinished,                              // 1 Const
            Case.NodeStarted, Case.NodeProgress, Case.NodeProgress, Case.NodeFinished,  // 2 Steps
            Case.NodeStarted, Case.NodeFinished,                              // 3 SaveText
            Case.Succeeded,
        }));
        var jobId = events[0].JobId;
        Assert.That(events.Select(e => e.Sequence), Is.EqualTo(Enumerable.Range(1, 12).Select(i => (long)i)));
        Assert.That(events.Select(e => e.JobId), Is.All.EqualTo(jobId));
        Assert.That(events.Zip(events.Skip(1)).All(p => p.First.Time.ToDateTimeOffset() <= p.Second.Time.ToDateTimeOffset()), Is.True);

        Assert.That(events[0].Queued.Position, Is.Zero);
        Assert.That(events[2].NodesCached.NodeIds, Is.Empty);
        Assert.That(events[3].NodeStarted, Is.EqualTo(new NodeStarted { NodeId = "1", ClassType = "Const" }));
        Assert.That(events[4].NodeFinished, Is.EqualTo(new NodeFinished { NodeId = "1", ClassType = "Const" }));
        Assert.That(events[5].NodeStarted, Is.EqualTo(new NodeStarted { NodeId = "2", ClassType = "Steps" }));
        Assert.That(events[6].NodeProgress, Is.EqualTo(new NodeProgress
        {
            NodeId = "2", Value = 1, Max = 2, Preview = Google.Protobuf.ByteString.CopyFrom(TestNodes.Preview),
        }));
        Assert.That(events[7].NodeProgress, Is.EqualTo(new NodeProgress { NodeId = "2", Value = 2, Max = 2 }));
        Assert.That(events[8].NodeFinished, Is.EqualTo(new NodeFinished { NodeId = "2", ClassType = "Steps" }));
        Assert.That(events[9].NodeStarted, Is.EqualTo(new NodeStarted { NodeId = "3", ClassType = "SaveText" }));

        var fileName = $"run_{jobId}.png";
        var ui = Struct.Parser.ParseJson($$"""
            {"images": [{"filename": "{{fileName}}", "subfolder": "", "type": "output"}], "value": [5]}
            """);
        Assert.That(events[10].NodeFinished, Is.EqualTo(new NodeFinished { NodeId = "3", ClassType = "SaveText", Ui = ui }));
        Assert.That(events[11].Succeeded.Outputs, Is.EquivalentTo(new Dictionary<string, Struct> { ["3"] = ui }));
        Assert.That(events[11].Succeeded.Files, Is.EqualTo(new[]
        {
            new OutputFile { NodeId = "3", UiKey = "images", Filename = fileName, Subfolder = "", Type = "output" },
        }));
    }

    [Test]
    public async Task Inline_outputs_put_the_written_files_in_the_final_event()
    {
        var (events, result) = await Workflows.StreamAsync("Run", Run(TestWorkflows.Pipeline(9), inline: true));

        Assert.That(result.Status, Is.EqualTo(StatusCode.OK), result.StatusMessage);
        var file = events[^1].Succeeded.Files.Single();
        Assert.That(file.Content.ToByteArray(), Is.EqualTo(TestNodes.FileContent(9L)));
        Assert.That(file.Content.ToByteArray(), Is.EqualTo(File.ReadAllBytes(Path.Combine(Server.OutputDir, file.Filename))));
        Assert.That(file.ContentOmitted, Is.Empty);
    }

    [Test]
    public async Task An_output_file_that_is_gone_is_named_but_not_sent()
    {
        var (events, _) = await Workflows.StreamAsync("Run", Run(TestWorkflows.Pipeline(12)));
        var jobId = events[0].JobId;
        File.Delete(Path.Combine(Server.OutputDir, events[^1].Succeeded.Files.Single().Filename));

        var (watched, result) = await Workflows.StreamAsync("Watch", new WatchRequest { JobId = jobId, InlineOutputs = true });

        Assert.That(result.Status, Is.EqualTo(StatusCode.OK), result.StatusMessage);
        var file = watched[^1].Succeeded.Files.Single();
        Assert.That((file.Content.Length, file.ContentOmitted), Is.EqualTo((0, "unavailable")));
    }

    [Test]
    public async Task An_output_file_too_large_for_the_message_limit_is_named_but_not_sent()
    {
        await using var small = await WorkflowServer.StartAsync(configure: o => o with { Grpc = o.Grpc with { MaxSendMessageBytes = 64 * 1024 } });

        var (events, result) = await new WorkflowsClient(small.Client).StreamAsync("Run", Run(TestWorkflows.Pipeline(13), inline: true));

        Assert.That(result.Status, Is.EqualTo(StatusCode.OK), result.StatusMessage);
        var file = events[^1].Succeeded.Files.Single();
        Assert.That((file.Content.Length, file.ContentOmitted), Is.EqualTo((0, "too_large")));
    }

    [Test]
    public async Task A_failing_node_ends_the_stream_with_a_failed_event_without_server_paths()
    {
        var (events, result) = await Workflows.StreamAsync("Run", Run(TestWorkflows.Failing("cannot read /srv/private/models/x.safetensors")));

        Assert.That(result.Status, Is.EqualTo(StatusCode.OK), result.StatusMessage);
        Assert.That(events.Select(e => e.EventCase), Is.EqualTo(new[] { Case.Queued, Case.Started, Case.NodesCached, Case.NodeStarted, Case.NodeFinished, Case.NodeStarted, Case.Failed }));
        var failed = events[^1].Failed;
        Assert.That((failed.NodeId, failed.ClassType, failed.ErrorType), Is.EqualTo(("2", "Fail", "InvalidOperationException")));
        Assert.That(failed.Message, Is.EqualTo("cannot read x.safetensors"));
        Assert.That(failed.InputsSummary.Keys, Is.EquivalentTo(new[] { "value", "message" }));
        Assert.That(failed.InputsSummary["message"], Does.Not.Contain("/srv"));
    }

    [Test]
    public async Task A_client_that_disconnects_during_Run_cancels_its_job()
    {
        var gate = Key();
        var call = await Workflows.StartAsync("Run", Run(TestWorkflows.Pipeline(1, gate: gate)));
        var queued = await call.ReadAsync(JobEvent.Parser).WaitAsync(Hang);
        await Server.Gates.Entered(gate).WaitAsync(Hang);

        call.Dispose(); // RST_STREAM: the response headers are in, so only dropping the stream cancels

        Assert.That(await Server.FinishedAsync(queued!.JobId), Is.EqualTo(JobStatus.Cancelled));
        var job = await Workflows.GetJobAsync(queued.JobId);
        Assert.That((job.State, job.CancelledAtNode), Is.EqualTo((JobState.Cancelled, "2")));
    }

    [Test]
    public async Task Continue_on_disconnect_keeps_the_job_running_after_the_client_leaves()
    {
        var gate = Key();
        var call = await Workflows.StartAsync("Run", Run(TestWorkflows.Pipeline(2, gate: gate), continueOnDisconnect: true));
        var queued = await call.ReadAsync(JobEvent.Parser).WaitAsync(Hang);
        await Server.Gates.Entered(gate).WaitAsync(Hang);

        call.Dispose(); // RST_STREAM: the response headers are in, so only dropping the stream cancels
        await Server.Logs.WhenLogged(line => line.Contains($"Run of job {queued!.JobId} ended by its caller")).WaitAsync(Hang);

        Assert.That(Server.Engine.GetJob(queued.JobId)!.Status, Is.EqualTo(JobStatus.Running));
        Server.Gates.Release(gate);
        Assert.That(await Server.FinishedAsync(queued.JobId), Is.EqualTo(JobStatus.Succeeded));
    }

    [Test]
    public async Task A_deadline_during_Run_ends_the_call_with_DEADLINE_EXCEEDED_and_cancels_the_job()
    {
        var gate = Key();

        var (events, result) = await Workflows.StreamAsync("Run", Run(TestWorkflows.Pipeline(3, gate: gate)), new CallOptions { Timeout = "2S" });

        Assert.That(result.Status, Is.EqualTo(StatusCode.DeadlineExceeded));
        Assert.That(events, Is.Not.Empty);
        Assert.That(await Server.FinishedAsync(events[0].JobId), Is.EqualTo(JobStatus.Cancelled));
    }

    [Test]
    public async Task A_deadline_while_the_job_is_still_queued_removes_it_from_the_queue()
    {
        var gate = Key();
        var running = await Workflows.SubmitAsync(TestWorkflows.Pipeline(5, gate: gate));
        await Server.Gates.Entered(gate).WaitAsync(Hang);

        var (events, result) = await Workflows.StreamAsync("Run", Run(TestWorkflows.Pipeline(6)), new CallOptions { Timeout = "2S" });

        Assert.That(result.Status, Is.EqualTo(StatusCode.DeadlineExceeded));
        Assert.That(events.Select(e => e.EventCase), Is.EqualTo(new[] { Case.Queued }));
        Assert.That(await Server.FinishedAsync(events[0].JobId), Is.EqualTo(JobStatus.Cancelled));
        var job = await Workflows.GetJobAsync(events[0].JobId);
        Assert.That((job.StartedAt, job.CancelledAtNode), Is.EqualTo(((Timestamp?)null, "")), "it never ran");
        Server.Gates.Release(gate);
        Assert.That(await Server.FinishedAsync(running.JobId), Is.EqualTo(JobStatus.Succeeded));
    }

    [Test]
    public async Task A_retried_Run_with_the_same_client_request_id_attaches_to_the_first_job()
    {
        var gate = Key();
        var request = Run(TestWorkflows.Pipeline(4, gate: gate));
        request.Submit.ClientRequestId = Key();
        var submitted = await Workflows.SubmitAsync(request.Submit);
        await Server.Gates.Entered(gate).WaitAsync(Hang);

        var retry = Workflows.StreamAsync("Run", request);
        Server.Gates.Release(gate);
        var (events, result) = await retry.WaitAsync(Hang);

        Assert.That(result.Status, Is.EqualTo(StatusCode.OK), result.StatusMessage);
        Assert.That(events.Select(e => e.JobId), Is.All.EqualTo(submitted.JobId));
        Assert.That(events.Select(e => e.Sequence), Is.EqualTo(Enumerable.Range(1, events.Count).Select(i => (long)i)));
        Assert.That(events[^1].EventCase, Is.EqualTo(Case.Succeeded));
        Assert.That(Server.Engine.ListJobs().Count(j => j.ClientRequestId == request.Submit.ClientRequestId), Is.EqualTo(1));
    }

    [Test]
    public async Task Run_refuses_an_invalid_workflow_before_streaming()
    {
        var (events, result) = await Workflows.StreamAsync("Run", Run("""{"1": {"class_type": "Nope", "inputs": {}}}"""));

        Assert.That(result.Status, Is.EqualTo(StatusCode.InvalidArgument));
        Assert.That(events, Is.Empty);
    }
}
