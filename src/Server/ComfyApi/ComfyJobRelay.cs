using System.Collections.Concurrent;
using CharacterGen.GraphRuntime.Engine;

namespace CharacterGen.Server.ComfyApi;

/// <summary>
/// Feeds the WebSockets from the shared engine: every job is read from its event log (which never waits for
/// readers, so a slow socket cannot slow execution) and translated by a <see cref="JobMessageTranslator"/>.
/// Jobs submitted here are tracked at once; jobs from other transports (gRPC) are found by watching the queue,
/// which also broadcasts <c>status</c> whenever its size changes.
/// </summary>
public sealed class ComfyJobRelay(WorkflowEngine engine, ComfySocketHub hub, ILogger<ComfyJobRelay> logger) : BackgroundService
{
    /// <summary>How often the queue is looked at for jobs submitted through other transports.</summary>
    public static readonly TimeSpan QueuePollInterval = TimeSpan.FromMilliseconds(100);

    private readonly ConcurrentDictionary<string, Task> _pumps = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stop = new();
    private int _disposed;

    /// <summary>Relays a job just submitted through this API (announcing the new queue size first).</summary>
    public void Track(string jobId)
    {
        hub.BroadcastStatus();
        Start(jobId);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken, _stop.Token);
        using var timer = new PeriodicTimer(QueuePollInterval);
        try
        {
            while (await timer.WaitForNextTickAsync(linked.Token).ConfigureAwait(false))
            {
                var queue = engine.Queue;
                var active = queue.Pending.Select(j => j.Id).Prepend(queue.Running?.Id);
                // A job that finished since the look at the queue was relayed already: never replay it.
                foreach (var id in active)
                    if (id is not null && !_pumps.ContainsKey(id) && engine.GetJob(id) is { IsFinished: false }) Start(id);
                hub.BroadcastStatus(onlyIfChanged: true);
            }
        }
        catch (OperationCanceledException) when (linked.IsCancellationRequested) { }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        await base.StopAsync(cancellationToken).ConfigureAwait(false);
        try { await Task.WhenAll(_pumps.Values).WaitAsync(cancellationToken).ConfigureAwait(false); }
        catch (OperationCanceledException) { }
    }

    public override void Dispose()
    {
        // Registered as a singleton and as the hosted service, so the container disposes it twice.
        if (Interlocked.Exchange(ref _disposed, 1) == 1) return;
        _stop.Cancel();
        base.Dispose();
        _stop.Dispose();
    }

    private void Start(string jobId)
    {
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        if (!_pumps.TryAdd(jobId, started.Task)) return;
        _ = PumpAsync(jobId).ContinueWith(_ =>
        {
            _pumps.TryRemove(jobId, out Task? _);
            started.TrySetResult();
        }, TaskScheduler.Default);
    }

    private async Task PumpAsync(string jobId)
    {
        await Task.Yield();
        var job = engine.GetJob(jobId);
        if (job is null) return;
        var clientId = ComfyJson.String(job.ExtraData, "client_id");
        var previews = ComfyJson.String(job.ExtraData, "preview_method") != "none";
        var translator = new JobMessageTranslator(jobId, clientId, previews, hub, engine);
        try
        {
            await foreach (var e in engine.Subscribe(jobId, 1, _stop.Token).ConfigureAwait(false))
                translator.Handle(e);
        }
        catch (KeyNotFoundException) { } // dropped from history before we read it
        catch (OperationCanceledException) when (_stop.IsCancellationRequested) { }
        catch (Exception e)
        {
            logger.LogError(e, "Relaying the events of job {JobId} to WebSocket clients failed", jobId);
        }
    }
}
