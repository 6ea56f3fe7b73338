using System.Text.Json.Nodes;
using CharacterGen.Protos.V1;
using CharacterGen.Tests.Shared;
using Grpc.Core;

namespace CharacterGen.Soak.Bench;

/// <summary>
/// Many concurrent Workflows.Watch streams on one job. A blocker job runs first, so every stream is attached while
/// the watched job is still pending and receives its events live; afterwards each stream's sequence numbers must
/// equal the job's full event list (a replay after the end), ending in succeeded.
/// </summary>
public sealed class WatchStorm(Workflows.WorkflowsClient grpc, ServeProcess server)
{
    public sealed record Result(
        int Streams, int Complete, bool AttachedWhilePending, int Events, double AttachSeconds, double TotalSeconds,
        ProcessSample Before, long PeakRssBytes, ProcessSample After, IReadOnlyList<string> Problems);

    public async Task<Result> RunAsync(JsonObject blocker, JsonObject watched, int streams, CancellationToken cancellationToken)
    {
        var problems = new List<string>();
        var before = ProcessSample.Read(server.Pid);
        long peak = before.RssBytes;
        using var sampling = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var sampler = Task.Run(async () =>
        {
            while (!sampling.IsCancellationRequested)
            {
                peak = Math.Max(peak, ProcessSample.Read(server.Pid).RssBytes);
                try { await Task.Delay(100, sampling.Token); } catch (OperationCanceledException) { }
            }
        }, CancellationToken.None);

        var started = DateTime.UtcNow;
        await SubmitAsync(blocker, seed: 1);
        var jobId = await SubmitAsync(watched, seed: 2);

        // Every stream counts itself once its first event (queued, a replay) has arrived.
        var attached = 0;
        var allAttached = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var watchers = Enumerable.Range(0, streams).Select(_ => Task.Run(async () =>
        {
            var sequences = new List<long>();
            JobEvent? last = null;
            try
            {
                using var call = grpc.Watch(new WatchRequest { JobId = jobId }, cancellationToken: cancellationToken);
                await foreach (var e in call.ResponseStream.ReadAllAsync(cancellationToken))
                {
                    if (sequences.Count == 0 && Interlocked.Increment(ref attached) == streams) allAttached.TrySetResult();
                    sequences.Add(e.Sequence);
                    last = e;
                }
                return (sequences, last, Error: (string?)null);
            }
            catch (RpcException e)
            {
                return (sequences, last, Error: $"{e.StatusCode}: {e.Status.Detail}");
            }
        }, cancellationToken)).ToList();

        await Task.WhenAny(allAttached.Task, Task.WhenAll(watchers), Task.Delay(Timeout.Infinite, cancellationToken));
        var attachSeconds = (DateTime.UtcNow - started).TotalSeconds;
        var state = (await grpc.GetJobAsync(new GetJobRequest { JobId = jobId })).Job.State;
        var attachedWhilePending = allAttached.Task.IsCompleted && state == JobState.Pending;
        var results = await Task.WhenAll(watchers);
        var totalSeconds = (DateTime.UtcNow - started).TotalSeconds;
        await sampling.CancelAsync();
        await sampler;

        // The job's full event list: a replay from the first event, now that the job has ended.
        var reference = new List<long>();
        using (var replay = grpc.Watch(new WatchRequest { JobId = jobId }, cancellationToken: cancellationToken))
            await foreach (var e in replay.ResponseStream.ReadAllAsync(cancellationToken)) reference.Add(e.Sequence);
        var lastSequence = (await grpc.GetJobAsync(new GetJobRequest { JobId = jobId })).Job.LastSequence;
        if (reference.Count == 0 || reference[^1] != lastSequence)
            problems.Add($"replay ends at {(reference.Count == 0 ? 0 : reference[^1])}, GetJob.last_sequence is {lastSequence}");

        var complete = 0;
        foreach (var (sequences, last, error) in results)
        {
            if (error is null && last?.EventCase == JobEvent.EventOneofCase.Succeeded && sequences.SequenceEqual(reference)) complete++;
            else if (problems.Count < 10)
                problems.Add(error ?? $"stream got {sequences.Count} events (last {last?.EventCase}), expected {reference.Count} ending in Succeeded");
        }
        return new Result(streams, complete, attachedWhilePending, reference.Count, attachSeconds, totalSeconds,
            before, peak, ProcessSample.Read(server.Pid), problems);
    }

    private async Task<string> SubmitAsync(JsonObject workflow, long seed)
    {
        var response = await grpc.SubmitAsync(new SubmitRequest
        {
            Workflow = new WorkflowSpec
            {
                WorkflowJson = workflow.ToJsonString(),
                Overrides = { new InputOverride { Input = "3.seed", IntValue = seed } },
            },
        });
        return response.JobId;
    }
}
