using CharacterGen.Protos.V1;
using CharacterGen.Server.Tests.Grpc.Echo;
using CharacterGen.Server.Tests.WorkflowsApi.Support;
using Google.Rpc;
using Grpc.Core;
using Grpc.Health.V1;
using Grpc.Net.Client;
using Case = CharacterGen.Protos.V1.JobEvent.EventOneofCase;

namespace CharacterGen.Server.Tests.WorkflowsApi.RealClients;

/// <summary>
/// Grpc.Net.Client with the generated client stubs, the way a C# service calls us: run with streamed progress,
/// rich error details, cancel, deadline, gzip, health.
/// </summary>
public sealed class DotNetClientTests : WorkflowsFixture
{
    private GrpcChannel _channel = null!;
    private Protos.V1.Workflows.WorkflowsClient _workflows = null!;

    [OneTimeSetUp]
    public void OpenChannel()
    {
        _channel = GrpcChannel.ForAddress(Server.GrpcAddress);
        _workflows = new Protos.V1.Workflows.WorkflowsClient(_channel);
    }

    [OneTimeTearDown]
    public void CloseChannel() => _channel.Dispose();

    [Test]
    public async Task Run_streams_progress_to_success()
    {
        using var run = _workflows.Run(new RunRequest { Submit = WorkflowsClient.Inline(TestWorkflows.Pipeline(5, steps: 3)) });

        var events = await run.ResponseStream.ReadAllAsync().ToListAsync().AsTask().WaitAsync(Hang);

        Assert.That(events[0].EventCase, Is.EqualTo(Case.Queued));
        Assert.That(events.Count(e => e.EventCase == Case.NodeProgress), Is.EqualTo(3));
        Assert.That(events[^1].EventCase, Is.EqualTo(Case.Succeeded));
        Assert.That(run.GetStatus().StatusCode, Is.EqualTo(StatusCode.OK));
    }

    [Test]
    public async Task Invalid_workflow_carries_bad_request_details()
    {
        var error = await Assert.ThrowsAsync<RpcException>(async () =>
            await _workflows.SubmitAsync(WorkflowsClient.Inline(TestWorkflows.Pipeline(5, steps: 1000))))!;

        Assert.That(error.StatusCode, Is.EqualTo(StatusCode.InvalidArgument));
        var badRequest = error.GetRpcStatus()!.GetDetail<BadRequest>();
        Assert.That(badRequest.FieldViolations.Select(v => v.Field), Does.Contain("nodes[\"2\"].inputs.steps"));
    }

    [Test]
    public async Task Cancel_ends_a_running_job_and_its_stream()
    {
        var gate = Key();
        using var run = _workflows.Run(new RunRequest { Submit = WorkflowsClient.Inline(TestWorkflows.Pipeline(5, gate: gate)) });
        var events = new List<JobEvent>();
        while (events.Count == 0 || events[^1].EventCase != Case.NodeProgress)
        {
            Assert.That(await run.ResponseStream.MoveNext().WaitAsync(Hang), Is.True);
            events.Add(run.ResponseStream.Current);
        }

        var cancelled = await _workflows.CancelAsync(new CancelJobRequest { JobId = events[0].JobId });
        while (await run.ResponseStream.MoveNext().WaitAsync(Hang)) events.Add(run.ResponseStream.Current);

        Assert.That(cancelled.CancellationRequested, Is.True);
        Assert.That(events[^1].EventCase, Is.EqualTo(Case.Cancelled));
        Assert.That(await Server.FinishedAsync(events[0].JobId), Is.EqualTo(GraphRuntime.Execution.JobStatus.Cancelled));
    }

    [Test]
    public async Task Deadline_ends_the_call_and_cancels_its_job()
    {
        // The gate holds the job, so only the deadline can end this call; it is long enough for the first event.
        using var run = _workflows.Run(new RunRequest { Submit = WorkflowsClient.Inline(TestWorkflows.Pipeline(5, gate: Key())) },
            deadline: DateTime.UtcNow.AddSeconds(3));
        Assert.That(await run.ResponseStream.MoveNext().WaitAsync(Hang), Is.True);
        var jobId = run.ResponseStream.Current.JobId;

        var error = await Assert.ThrowsAsync<RpcException>(async () => await run.ResponseStream.ReadAllAsync().ToListAsync());

        Assert.That(error!.StatusCode, Is.EqualTo(StatusCode.DeadlineExceeded));
        Assert.That(await Server.FinishedAsync(jobId), Is.EqualTo(GraphRuntime.Execution.JobStatus.Cancelled));
    }

    [Test]
    public async Task Gzip_requests_and_health_work_through_the_generated_clients()
    {
        var echo = new Echo.EchoClient(_channel);
        var gzip = new Metadata { { "grpc-internal-encoding-request", "gzip" } };

        var reply = await echo.UnaryAsync(new EchoRequest { Text = "zipped", Payload = Google.Protobuf.ByteString.CopyFrom(new byte[10_000]) }, gzip);
        var health = await new Health.HealthClient(_channel).CheckAsync(new HealthCheckRequest { Service = "ready" });

        Assert.That((reply.Text, reply.RequestEncoding), Is.EqualTo(("zipped", "gzip")));
        Assert.That(health.Status, Is.EqualTo(HealthCheckResponse.Types.ServingStatus.Serving));
    }
}
