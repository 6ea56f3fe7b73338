using System.Runtime.CompilerServices;
using System.Threading.Channels;

namespace CharacterGen.Server.Grpc.Health;

public enum ServingStatus
{
    Unknown,
    Serving,
    NotServing,
}

/// <summary>
/// The server's health as named entries: "" (the whole server), "live", "ready" and one per gRPC
/// service. Components update it (the runtime flips "ready" while it cannot take work); the
/// grpc.health.v1 service reads and watches it. Never waits on anything slow (probes must be fast).
/// </summary>
public sealed class HealthState
{
    public const string Server = "";
    /// <summary>The process is up and can answer: a failing "live" means restart it.</summary>
    public const string Live = "live";
    /// <summary>The server can take work now: a failing "ready" means route elsewhere for a while.</summary>
    public const string Ready = "ready";

    private readonly Lock _gate = new();
    private readonly Dictionary<string, ServingStatus> _statuses = new(StringComparer.Ordinal)
    {
        [Server] = ServingStatus.Serving,
        [Live] = ServingStatus.Serving,
        [Ready] = ServingStatus.Serving,
    };
    private readonly Dictionary<string, List<Channel<ServingStatus?>>> _watchers = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _shutdown = new();

    /// <summary>Fires once the server has begun shutting down; every entry is then NOT_SERVING.</summary>
    public CancellationToken ShuttingDown => _shutdown.Token;

    public void SetStatus(string service, ServingStatus status)
    {
        lock (_gate)
        {
            if (_shutdown.IsCancellationRequested) return; // shutting down is final
            SetLocked(service, status);
        }
    }

    /// <summary>Adds an entry only if there is none (so start-up never overrides a component's choice).</summary>
    public void Declare(string service, ServingStatus status)
    {
        lock (_gate)
            if (!_statuses.ContainsKey(service)) SetLocked(service, status);
    }

    public bool TryGetStatus(string service, out ServingStatus status)
    {
        lock (_gate) return _statuses.TryGetValue(service, out status);
    }

    public IReadOnlyDictionary<string, ServingStatus> Snapshot()
    {
        lock (_gate) return new Dictionary<string, ServingStatus>(_statuses, StringComparer.Ordinal);
    }

    /// <summary>Marks everything NOT_SERVING (load balancers drain us) and ends every watch.</summary>
    public void EnterShutdown()
    {
        lock (_gate)
        {
            if (_shutdown.IsCancellationRequested) return;
            foreach (var service in _statuses.Keys.ToList()) SetLocked(service, ServingStatus.NotServing);
            _shutdown.Cancel();
        }
    }

    /// <summary>
    /// The current status (null: unknown service), then each change, until <paramref name="cancellationToken"/>
    /// fires (throws) or the server shuts down (ends after reporting NOT_SERVING). Rapid flaps may
    /// collapse into their last value: a watcher always ends up seeing the latest status.
    /// </summary>
    public async IAsyncEnumerable<ServingStatus?> WatchAsync(
        string service, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var channel = Channel.CreateBounded<ServingStatus?>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropOldest });
        ServingStatus? current;
        lock (_gate)
        {
            if (!_watchers.TryGetValue(service, out var list)) _watchers[service] = list = [];
            list.Add(channel);
            current = _statuses.TryGetValue(service, out var status) ? status : null;
        }
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _shutdown.Token);
        try
        {
            yield return current;
            while (true)
            {
                bool more;
                try { more = await channel.Reader.WaitToReadAsync(stop.Token); }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested) { more = false; }
                while (channel.Reader.TryRead(out var next))
                {
                    if (next == current) continue;
                    current = next;
                    yield return next;
                }
                if (!more) yield break;
            }
        }
        finally
        {
            lock (_gate) _watchers[service].Remove(channel);
        }
    }

    private void SetLocked(string service, ServingStatus status)
    {
        if (_statuses.TryGetValue(service, out var previous) && previous == status) return;
        _statuses[service] = status;
        if (_watchers.TryGetValue(service, out var list))
            foreach (var watcher in list) watcher.Writer.TryWrite(status);
    }
}
