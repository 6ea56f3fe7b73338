using System.Collections.Concurrent;
using CharacterGen.GraphRuntime.Engine;

namespace CharacterGen.Server.ComfyApi;

/// <summary>
/// Feeds the WebSockets from the shared engine: every job is read from its event log (which never waits for
/// readers, so a slow socket cannot slow execution) and translated by a <see cref="JobMessageTranslator"/>.
/// Jobs submitted here are tracked at once. Jobs from other transports (gRPC) are found by watching the queue,
/// which also broadcasts <c>status</c> whenever its size changes, and by looking at what recently finished: a job
/// that ran and ended between two looks is still relayed, late but complete (its log is replayed).
/// </summary>
public sealed class ComfyJobRelay(WorkflowEngine engine, ComfySocketHub hub, ILogger<ComfyJobRelay> logger) : BackgroundService
{
    /// <summary>How often the queue is looked at for jobs submitted through other transports.</summary>
    public static readonly TimeSpan QueuePollInterval = TimeSpan.FromMilliseconds(100);

    /// <summary>Every this many queue looks, history is searched for jobs that finished unseen.</summary>
    private const int HistoryScanEvery = 5;

    /// <summary>Finished jobs younger than this are searched; older ones are left alone.</summary>
    private static readonly TimeSpan HistoryWindow = TimeSpan.FromSeconds(10);

    /// <summary>A relayed job is remembered this long after it finished, so that it is never relayed twice.</summary>
    private static readonly TimeSpan Memory = TimeSpan.FromMinutes(1);

    private readonly ConcurrentDictionary<string, Relay> _relays = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stop = new();
    private int _disposed;

    private sealed class Relay
    {
        public Task Done = Task.CompletedTask;
        public DateTimeOffset? FinishedAt;
    }

    /// <summary>Relays a job just submitted through this API (announcing the new queue size first).</summary>
    public void Track(string jobId)
    {
        hub.BroadcastStatus();
        Start(jobId, live: true);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken, _stop.Token);
        using var timer = new PeriodicTimer(QueuePollInterval);
        var ticks = 0;
        try
        {
            while (await timer.WaitForNextTickAsync(linked.Token).ConfigureAwait(false))
            {
                var queue = engine.Queue;
                foreach (var id in queue.Pending.Select(j => j.Id).Prepend(queue.Running?.Id))
                    if (id is not null && !_relays.ContainsKey(id)) Start(id, live: true);
                if (++ticks % HistoryScanEvery == 0) ScanHistory();
                hub.BroadcastStatus(onlyIfChanged: true);
            }
        }
        catch (OperationCanceledException) when (linked.IsCancellationRequested) { }
    }

    /// <summary>Replays jobs that started and finished between two looks at the queue; forgets old relays.</summary>
    private void ScanHistory()
    {
        var now = DateTimeOffset.UtcNow;
        var history = engine.History; // oldest first, in finishing order
        for (var i = history.Count - 1; i >= 0; i--)
        {
            var job = history[i];
            if (job.FinishedAt < now - HistoryWindow) break;
            if (job.StartedAt is not null && !_relays.ContainsKey(job.Id)) Start(job.Id, live: false);
        }
        foreach (var (id, relay) in _relays)
            if (relay.FinishedAt < now - Memory) _relays.TryRemove(id, out _);
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        await base.StopAsync(cancellationToken).ConfigureAwait(false);
        try { await Task.WhenAll(_relays.Values.Select(r => r.Done)).WaitAsync(cancellationToken).ConfigureAwait(false); }
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

    private void Start(string jobId, bool live)
    {
        var relay = new Relay();
        if (!_relays.TryAdd(jobId, relay)) return;
        relay.Done = PumpAsync(jobId, live).ContinueWith(_ => relay.FinishedAt = DateTimeOffset.UtcNow, TaskScheduler.Default);
    }

    /// <param name="live">False for a job that already finished: its messages go to its client, but it never counts as running.</param>
    private async Task PumpAsync(string jobId, bool live)
    {
        await Task.Yield();
        var job = engine.GetJob(jobId);
        if (job is null) return;
        var clientId = ComfyJson.String(job.ExtraData, "client_id");
        var previews = ComfyJson.String(job.ExtraData, "preview_method") != "none";
        var translator = new JobMessageTranslator(jobId, clientId, previews, live, hub, engine);
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
