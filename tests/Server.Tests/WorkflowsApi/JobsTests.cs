using CharacterGen.GraphRuntime.Execution;
using CharacterGen.Protos.V1;
using CharacterGen.Server.Grpc;
using CharacterGen.Server.Tests.WorkflowsApi.Support;
using Case = CharacterGen.Protos.V1.JobEvent.EventOneofCase;

namespace CharacterGen.Server.Tests.WorkflowsApi;

/// <summary>Watch, GetJob, Cancel and queue order: jobs as seen after submission.</summary>
public sealed class JobsTests : WorkflowsFixture
{
    /// <summary>Submits a job that waits at a new gate, and returns once it is running there.</summary>
    private async Task<(string JobId, string Gate)> StartBlockedAsync(long value = 1)
    {
        var gate = Key();
        var submitted = await Workflows.SubmitAsync(TestWorkflows.Pipeline(value, gate: gate));
        await Server.Gates.Entered(gate).WaitAsync(Hang);
        return (submitted.JobId, gate);
    }

    private async Task<string> CompletedJobAsync(string workflowJson)
    {
        var submitted = await Workflows.SubmitAsync(workflowJson);
        await Server.FinishedAsync(submitted.JobId);
        return submitted.JobId;
    }

    [Test]
    public async Task Watch_from_a_middle_sequence_number_streams_the_rest()
    {
        var (all, _) = await Workflows.StreamAsync("Run", new RunRequest { Submit = WorkflowsClient.Inline(TestWorkflows.Pipeline(3)) });

        var (tail, result) = await Workflows.StreamAsync("Watch", new WatchRequest { JobId = all[0].JobId, FromSequence = 6 });

        Assert.That(result.Status, Is.EqualTo(StatusCode.OK), result.StatusMessage);
        Assert.That(tail.Select(e => e.Sequence), Is.EqualTo(Enumerable.Range(6, 7).Select(i => (long)i)));
        Assert.That(tail, Is.EqualTo(all.Skip(5)));
    }

    [Test]
    public async Task Watch_follows_a_running_job_to_its_end()
    {
        var (jobId, gate) = await StartBlockedAsync();
        using var watch = await Workflows.StartAsync("Watch", new WatchRequest { JobId = jobId });
        var events = new List<JobEvent>();
        while (events.Count == 0 || events[^1].EventCase != Case.NodeProgress)
            events.Add((await watch.ReadAsync(JobEvent.Parser).WaitAsync(Hang))!);

        Server.Gates.Release(gate);
        while (await watch.ReadAsync(JobEvent.Parser).WaitAsync(Hang) is { } next) events.Add(next);

        Assert.That((await watch.FinishAsync()).Status, Is.EqualTo(StatusCode.OK));
        Assert.That(events.Select(e => e.Sequence), Is.EqualTo(Enumerable.Range(1, 12).Select(i => (long)i)));
        Assert.That(events[^1].EventCase, Is.EqualTo(Case.Succeeded));
    }

    [Test]
    public async Task Ending_a_Watch_does_not_cancel_the_job()
    {
        var (jobId, gate) = await StartBlockedAsync();
        var watch = await Workflows.StartAsync("Watch", new WatchRequest { JobId = jobId });
        await watch.ReadAsync(JobEvent.Parser).WaitAsync(Hang);

        watch.Dispose(); // RST_STREAM
        await Server.Logs.WhenLogged(line => line.Contains("/charactergen.v1.Workflows/Watch Cancelled")).WaitAsync(Hang);

        Assert.That(Server.Engine.GetJob(jobId)!.Status, Is.EqualTo(JobStatus.Running));
        Server.Gates.Release(gate);
        Assert.That(await Server.FinishedAsync(jobId), Is.EqualTo(JobStatus.Succeeded));
    }

    [TestCase("", 0, StatusCode.InvalidArgument)]
    [TestCase("no-such-job", 0, StatusCode.NotFound)]
    public async Task Watch_refuses_bad_or_unknown_jobs(string jobId, long from, StatusCode expected)
    {
        var (events, result) = await Workflows.StreamAsync("Watch", new WatchRequest { JobId = jobId, FromSequence = from });

        Assert.That(result.Status, Is.EqualTo(expected));
        Assert.That(events, Is.Empty);
    }

    [Test]
    public async Task Watch_refuses_a_negative_sequence()
    {
        var jobId = await CompletedJobAsync(TestWorkflows.Pipeline(2));

        var (_, result) = await Workflows.StreamAsync("Watch", new WatchRequest { JobId = jobId, FromSequence = -1 });

        Assert.That(result.Status, Is.EqualTo(StatusCode.InvalidArgument));
    }

    [Test]
    public async Task GetJob_describes_a_finished_job()
    {
        var jobId = await CompletedJobAsync(TestWorkflows.Pipeline(6));

        var job = await Workflows.GetJobAsync(jobId);

        Assert.That(job.State, Is.EqualTo(JobState.Succeeded));
        Assert.That(job.OutputNodeIds, Is.EqualTo(new[] { "3" }));
        Assert.That(job.Outputs["3"].Fields["value"].ListValue.Values[0].NumberValue, Is.EqualTo(6));
        Assert.That(job.Timings.Select(t => t.NodeId), Is.EqualTo(new[] { "1", "2", "3" }));
        Assert.That(job.LastSequence, Is.EqualTo(12));
        Assert.That(job.StartedAt.ToDateTimeOffset(), Is.GreaterThanOrEqualTo(job.CreatedAt.ToDateTimeOffset()));
        Assert.That(job.FinishedAt.ToDateTimeOffset(), Is.GreaterThanOrEqualTo(job.StartedAt.ToDateTimeOffset()));
        Assert.That(job.Error, Is.Null);
    }

    [Test]
    public async Task GetJob_of_a_failed_job_carries_the_error()
    {
        var jobId = await CompletedJobAsync(TestWorkflows.Failing("bad input"));

        var job = await Workflows.GetJobAsync(jobId);

        Assert.That(job.State, Is.EqualTo(JobState.Failed));
        Assert.That((job.Error.NodeId, job.Error.ClassType, job.Error.Message), Is.EqualTo(("2", "Fail", "bad input")));
    }

    [TestCase("", StatusCode.InvalidArgument)]
    [TestCase("no-such-job", StatusCode.NotFound)]
    public async Task GetJob_and_Cancel_refuse_bad_or_unknown_ids(string jobId, StatusCode expected)
    {
        Assert.That((await Workflows.CallAsync("GetJob", new GetJobRequest { JobId = jobId })).Status, Is.EqualTo(expected));
        Assert.That((await Workflows.CallAsync("Cancel", new CancelJobRequest { JobId = jobId })).Status, Is.EqualTo(expected));
    }

    [Test]
    public async Task Pending_jobs_report_their_queue_position_and_front_goes_first()
    {
        var (running, _) = await StartBlockedAsync();
        var back = await Workflows.SubmitAsync(TestWorkflows.Pipeline(10));
        var front = await Workflows.SubmitAsync(new SubmitRequest { Workflow = new WorkflowSpec { WorkflowJson = TestWorkflows.Pipeline(11) }, Front = true });

        Assert.That(back.QueuePosition, Is.Zero);
        Assert.That(front.QueuePosition, Is.Zero);
        Assert.That((await Workflows.GetJobAsync(running)).State, Is.EqualTo(JobState.Running));
        var backNow = await Workflows.GetJobAsync(back.JobId);
        Assert.That((backNow.State, backNow.QueuePosition), Is.EqualTo((JobState.Pending, 1)));
        Assert.That((await Workflows.GetJobAsync(front.JobId)).QueuePosition, Is.Zero);
    }

    [Test]
    public async Task Cancel_stops_a_running_job_at_its_next_cancellation_point()
    {
        var (jobId, _) = await StartBlockedAsync();

        var response = await Workflows.OkAsync("Cancel", new CancelJobRequest { JobId = jobId }, CancelJobResponse.Parser);

        Assert.That(response.CancellationRequested, Is.True);
        Assert.That(await Server.FinishedAsync(jobId), Is.EqualTo(JobStatus.Cancelled));
        var (events, _) = await Workflows.StreamAsync("Watch", new WatchRequest { JobId = jobId });
        Assert.That(events[^1].Cancelled.NodeId, Is.EqualTo("2"));
    }

    [Test]
    public async Task Cancel_removes_a_pending_job_at_once_and_leaves_others_alone()
    {
        var (running, gate) = await StartBlockedAsync();
        var pending = await Workflows.SubmitAsync(TestWorkflows.Pipeline(20));

        var response = await Workflows.OkAsync("Cancel", new CancelJobRequest { JobId = pending.JobId }, CancelJobResponse.Parser);

        Assert.That(response.CancellationRequested, Is.True);
        Assert.That(response.Job.State, Is.EqualTo(JobState.Cancelled));
        var (events, _) = await Workflows.StreamAsync("Watch", new WatchRequest { JobId = pending.JobId });
        Assert.That(events.Select(e => e.EventCase), Is.EqualTo(new[] { Case.Queued, Case.Cancelled }));
        Assert.That(events[^1].Cancelled.NodeId, Is.Empty);
        Server.Gates.Release(gate);
        Assert.That(await Server.FinishedAsync(running), Is.EqualTo(JobStatus.Succeeded));
    }

    [Test]
    public async Task Cancelling_a_finished_job_changes_nothing()
    {
        var jobId = await CompletedJobAsync(TestWorkflows.Pipeline(8));

        var response = await Workflows.OkAsync("Cancel", new CancelJobRequest { JobId = jobId }, CancelJobResponse.Parser);

        Assert.That(response.CancellationRequested, Is.False);
        Assert.That(response.Job.State, Is.EqualTo(JobState.Succeeded));
    }
}
