using CharacterGen.GraphRuntime.Engine;
using CharacterGen.Server.Grpc.Health;
using Microsoft.Extensions.Hosting;

namespace CharacterGen.Server.WorkflowsApi;

/// <summary>
/// Keeps the "ready" health entry NOT_SERVING while the job queue is full, so load balancers route new work
/// elsewhere. A refused submission flips it at once; a periodic look at the queue (a few snapshots, no waiting
/// on the execution thread) catches whichever transport filled or drained it. Only undoes what it did itself.
/// </summary>
public sealed class QueueReadiness(WorkflowEngine engine, HealthState health) : BackgroundService
{
    public static readonly TimeSpan DefaultPollInterval = TimeSpan.FromMilliseconds(250);

    private readonly Lock _gate = new();
    private bool _markedFull;

    public TimeSpan PollInterval { get; init; } = DefaultPollInterval;

    /// <summary>Looks at the queue now and updates "ready" if its fullness changed.</summary>
    public void Refresh()
    {
        var full = engine.Queue.Pending.Count >= engine.Options.QueueCapacity;
        lock (_gate)
        {
            if (full == _markedFull) return;
            _markedFull = full;
            health.SetStatus(HealthState.Ready, full ? ServingStatus.NotServing : ServingStatus.Serving);
        }
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
