using System.Collections.Concurrent;
using System.Diagnostics;
using CharacterGen.Protos.V1;
using CharacterGen.Server.Tests.ComfyApi.Support;
using Grpc.Net.Client;

namespace CharacterGen.Server.Tests.Telemetry;

/// <summary>
/// Spans, seen by an in-process <see cref="ActivityListener"/>: the request that submits a job (HTTP or gRPC) is the
/// parent of the job's span, and every executed node is a child span of the job.
/// </summary>
public sealed class TraceTests
{
    private ActivityListener _listener = null!;
    private readonly ConcurrentQueue<Activity> _started = new();

    [SetUp]
    public void Listen()
    {
        _listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name is GraphRuntime.Observability.Telemetry.Name or "Microsoft.AspNetCore",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStarted = _started.Enqueue,
        };
        ActivitySource.AddActivityListener(_listener);
    }

    [TearDown]
    public void StopListening() => _listener.Dispose();

    [Test]
    public async Task A_prompt_over_http_has_a_job_span_under_its_request_with_a_child_span_per_node()
    {
        await using var server = await ComfyServer.StartAsync();
        var id = await server.QueueAsync(TestWorkflows.SaveChain());
        await server.Engine.WaitAsync(id);

        var job = JobSpan(id);
        AssertParentIsAspNetCoreRequest(job);
        AssertNodeChildren(job, "node Const", "node Steps", "node TestSaveImage");
        Assert.That(job.GetTagItem("charactergen.job.outcome"), Is.EqualTo("succeeded"));
    }

    [Test]
    public async Task A_grpc_submission_parents_its_job_span_and_a_failing_node_marks_its_spans_as_errors()
    {
        await using var server = await ComfyServer.StartAsync();
        using var channel = GrpcChannel.ForAddress(server.GrpcAddress);
        var client = new Protos.V1.Workflows.WorkflowsClient(channel);
        var submitted = await client.SubmitAsync(new SubmitRequest
        {
            Workflow = new WorkflowSpec { WorkflowJson = TestWorkflows.Failing().ToJsonString() },
        });
        await server.Engine.WaitAsync(submitted.JobId);

        var job = JobSpan(submitted.JobId);
        AssertParentIsAspNetCoreRequest(job);
        var nodes = AssertNodeChildren(job, "node Const", "node Throw");
        Assert.Multiple(() =>
        {
            Assert.That(job.Status, Is.EqualTo(ActivityStatusCode.Error));
            Assert.That(nodes[0].Status, Is.EqualTo(ActivityStatusCode.Unset));
            Assert.That(nodes[1].Status, Is.EqualTo(ActivityStatusCode.Error));
            Assert.That(nodes[1].StatusDescription, Is.EqualTo(nameof(InvalidOperationException)));
        });
    }

    private Activity JobSpan(string jobId)
    {
        var jobs = _started.Where(a => a.OperationName == "job" && (string?)a.GetTagItem("charactergen.job.id") == jobId).ToList();
        Assert.That(jobs, Has.Count.EqualTo(1));
        Assert.That(jobs[0].IsStopped, Is.True, "the job span ends before the job's last event");
        return jobs[0];
    }

    private void AssertParentIsAspNetCoreRequest(Activity job)
    {
        var parent = _started.SingleOrDefault(a => a.SpanId == job.ParentSpanId);
        Assert.That(parent, Is.Not.Null, "the job span has the submitting request as its parent");
        Assert.That(parent!.Source.Name, Is.EqualTo("Microsoft.AspNetCore"));
        Assert.That(job.TraceId, Is.EqualTo(parent.TraceId));
    }

    private List<Activity> AssertNodeChildren(Activity job, params string[] expected)
    {
        var nodes = _started.Where(a => a.ParentSpanId == job.SpanId).ToList();
        Assert.That(nodes.Select(n => n.OperationName), Is.EqualTo(expected));
        Assert.That(nodes, Has.All.Matches<Activity>(n => n is { IsStopped: true } && n.TraceId == job.TraceId && n.Source.Name == "CharacterGen"));
        Assert.That(nodes.Select(n => n.GetTagItem("charactergen.node.class_type")), Is.EqualTo(expected.Select(e => e["node ".Length..])));
        return nodes;
    }
}
