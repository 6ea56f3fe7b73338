using CharacterGen.GraphRuntime.Engine;
using CharacterGen.GraphRuntime.Events;
using CharacterGen.GraphRuntime.Jobs;

namespace CharacterGen.GraphRuntime.Tests;

internal static class EngineTestExtensions
{
    /// <summary>Submits, asserts it was queued, and returns the job id.</summary>
    public static string Queue(this WorkflowEngine engine, string json, SubmitOptions? options = null)
    {
        var result = engine.Submit(json, options);
        Assert.That(result.Status, Is.EqualTo(SubmitStatus.Queued), result.Validation?.ToJsonString());
        return result.JobId!;
    }

    public static async Task<JobSnapshot> RunAsync(this WorkflowEngine engine, string json, SubmitOptions? options = null)
    {
        var id = engine.Queue(json, options);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30)); // a hang guard, not a timing assertion
        return await engine.WaitAsync(id, timeout.Token);
    }

    public static async Task<List<JobEvent>> EventsAsync(this WorkflowEngine engine, string jobId, long from = 1)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var events = new List<JobEvent>();
        await foreach (var e in engine.Subscribe(jobId, from, timeout.Token)) events.Add(e);
        return events;
    }

    /// <summary>Waits for an event gate with a hang guard.</summary>
    public static void WaitOrFail(this ManualResetEventSlim gate)
    {
        if (!gate.Wait(TimeSpan.FromSeconds(30))) Assert.Fail("timed out waiting for a node to start");
    }
}
