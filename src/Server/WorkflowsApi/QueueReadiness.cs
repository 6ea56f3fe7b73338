using CharacterGen.GraphRuntime.Engine;
using CharacterGen.Server.Grpc.Health;
using Microsoft.Extensions.Hosting;

namespace CharacterGen.Server.WorkflowsApi;

/// <summary>
/// Keeps the "ready" health entry NOT_SERVING while the job queue is full, so load balancers route new work
/// elsewhere. A refused submission flips it at once; a periodic look at the queue (a few snapshots, no waiting
/// on the execution thread) catches whichever transport filled or drained it. Only undoes what it did itself: the
/// other conditions of <see cref="ReadyConditions"/> keep their say.
/// </summary>
public sealed class QueueReadiness(WorkflowEngine engine, ReadyConditions ready) : BackgroundService
{
    public const string Condition = "queue";

    public static readonly TimeSpan DefaultPollInterval = TimeSpan.FromMilliseconds(250);

    public TimeSpan PollInterval { get; init; } = DefaultPollInterval;

    /// <summary>Looks at the queue now and updates "ready" if its fullness changed.</summary>
    public void Refresh()
    {
        var full = engine.Queue.Pending.Count >= engine.Options.QueueCapacity;
        ready.Report(Condition, full ? $"the job queue is full ({engine.Options.QueueCapacity} pending)" : null);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(PollInterval);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken)) Refresh();
        }
        catch (OperationCanceledException) { }
    }
}
