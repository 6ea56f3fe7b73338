using System.Data.Common;
using CharacterGen.GraphRuntime.Jobs;
using Npgsql;
using NpgsqlTypes;

namespace CharacterGen.Server.Storage;

// The shared queue on PostgreSQL: several servers claim from the jobs table with SELECT … FOR UPDATE SKIP LOCKED,
// hold what they claimed under a lease (lease_until, in the database's clock, so node clocks need not agree) that a
// heartbeat renews, and complete it only while claimed_by still names them (the fence). LISTEN/NOTIFY wakes idle
// workers and event readers at once; they also poll, so a lost notification only delays them.
public sealed partial class PostgresJobStore : ISharedJobStore
{
    private const string JobsChannel = "charactergen_jobs";
    private const string EventsChannel = "charactergen_events";
    /// <summary>The database's clock as UTC ticks (the unit of every time column).</summary>
    private const string Now = "(CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 10000000 AS BIGINT) + 621355968000000000)";
    private const string Finished = "state IN ('succeeded', 'failed', 'cancelled')";

    private readonly Lock _listenGate = new();
    private CancellationTokenSource? _listening;
    private Action<SharedChange>? _changed;

    public void AddQueued(StoredJob job, StoredEvent queued) => Guard(() =>
    {
        using var connection = OpenConnection();
        using var transaction = connection.BeginTransaction();
        Insert(connection, transaction, job);
        InsertEvents(connection, transaction, job.Id, null, [queued]);
        Notify(connection, transaction, JobsChannel, job.Id);
        transaction.Commit();
    });

    public ClaimedJob? Claim(string workerId, TimeSpan lease) => Guard(() =>
    {
        using var connection = OpenConnection();
        // A job whose worker stopped renewing goes first (it was running already), then the queue in run order. Each
        // is one statement: the row is locked (skipping rows other claimers hold), updated and returned at once.
        return ClaimWhere(connection, workerId, lease, $"state = 'running' AND (lease_until IS NULL OR lease_until < {Now})")
            ?? ClaimWhere(connection, workerId, lease, "state = 'pending'");
    });

    private static ClaimedJob? ClaimWhere(DbConnection connection, string workerId, TimeSpan lease, string condition)
    {
        var columns = string.Join(", ", Columns.Split(", ").Select(c => "jobs." + c));
        using var command = Command(connection, null,
            $"WITH next AS (SELECT id FROM jobs WHERE {condition} ORDER BY number, ord LIMIT 1 FOR UPDATE SKIP LOCKED) " +
            $"UPDATE jobs SET state = 'running', claimed_by = @w, lease_until = {Now} + @lease, started_at = {Now}, " +
            "attempts = attempts + 1, cancel_requested = 0 FROM next WHERE jobs.id = next.id " +
            $"RETURNING jobs.id, (SELECT COALESCE(MAX(seq), 0) FROM job_events e WHERE e.job_id = jobs.id)",
            [("w", workerId), ("lease", lease.Ticks)]);
        string id;
        long last;
        using (var reader = command.ExecuteReader())
        {
            if (!reader.Read()) return null;
            (id, last) = (reader.GetString(0), reader.GetInt64(1));
        }
        return new ClaimedJob(Query(connection, $"SELECT {Columns} FROM jobs WHERE id = @id", ("id", id)).Single(), last);
    }

    public LeaseState Renew(string jobId, string workerId, TimeSpan lease) => Guard(() =>
    {
        using var connection = OpenConnection();
        var cancel = ScalarObject(connection, null,
            $"UPDATE jobs SET lease_until = {Now} + @lease WHERE id = @id AND state = 'running' AND claimed_by = @w RETURNING cancel_requested",
            ("lease", lease.Ticks), ("id", jobId), ("w", workerId));
        return cancel is null ? LeaseState.Lost : Convert.ToInt32(cancel) != 0 ? LeaseState.CancelRequested : LeaseState.Held;
    });

    public void AppendEvents(string jobId, string workerId, IReadOnlyList<StoredEvent> events) => Guard(() =>
    {
        if (events.Count == 0) return;
        using var connection = OpenConnection();
        using var transaction = connection.BeginTransaction();
        InsertEvents(connection, transaction, jobId, workerId, events);
        Notify(connection, transaction, EventsChannel, jobId);
        transaction.Commit();
    });

    public bool Complete(StoredJob job, string workerId, IReadOnlyList<StoredEvent> events, int historySize) => Guard(() =>
    {
        using var connection = OpenConnection();
        using var transaction = connection.BeginTransaction();
        var updated = Execute(connection, transaction,
            "UPDATE jobs SET state = @state, started_at = @started, finished_at = @finished, outputs = @outputs, error = @error, " +
            "timings = @timings, cancelled_at_node = @cancelled, lease_until = NULL WHERE id = @id AND state = 'running' AND claimed_by = @w",
            ("state", StateOf(job.Status)), ("started", Ticks(job.StartedAt)), ("finished", Ticks(job.FinishedAt)), ("outputs", job.Outputs),
            ("error", job.Error), ("timings", job.Timings), ("cancelled", job.CancelledAtNode), ("id", job.Id), ("w", workerId));
        if (updated == 0) return false; // the fence: another worker holds it now, or it is gone
        InsertEvents(connection, transaction, job.Id, null, events);
        if (historySize < int.MaxValue)
            Execute(connection, transaction,
            $"WITH doomed AS (DELETE FROM jobs WHERE id IN (SELECT id FROM jobs WHERE {Finished} ORDER BY finished_at DESC, ord DESC OFFSET @keep) RETURNING id) " +
            "DELETE FROM job_events WHERE job_id IN (SELECT id FROM doomed)", ("keep", (long)historySize));
        Notify(connection, transaction, EventsChannel, job.Id);
        transaction.Commit();
        return true;
    });

    public void Release(string jobId, string workerId) => Guard(() =>
    {
        using var connection = OpenConnection();
        using var transaction = connection.BeginTransaction();
        if (Execute(connection, transaction,
                "UPDATE jobs SET state = 'pending', claimed_by = NULL, lease_until = NULL, started_at = NULL WHERE id = @id AND state = 'running' AND claimed_by = @w",
                ("id", jobId), ("w", workerId)) > 0)
            Notify(connection, transaction, JobsChannel, jobId);
        transaction.Commit();
    });

    public StoredJob? Find(string jobId) => Use(c => Query(c, $"SELECT {Columns} FROM jobs WHERE id = @id", ("id", jobId)).SingleOrDefault());

    public StoredJob? FindByRequestId(string clientRequestId) =>
        Use(c => Query(c, $"SELECT {Columns} FROM jobs WHERE client_request_id = @r", ("r", clientRequestId)).SingleOrDefault());

    public IReadOnlyList<StoredJob> Unfinished() => Use(c =>
        Query(c, $"SELECT {Columns} FROM jobs WHERE state = 'running' ORDER BY started_at, ord")
            .Concat(Query(c, $"SELECT {Columns} FROM jobs WHERE state = 'pending' ORDER BY number, ord")).ToArray());

    IReadOnlyList<StoredJob> ISharedJobStore.Finished(int limit) => Use(c =>
    {
        var newest = Query(c, $"SELECT {Columns} FROM jobs WHERE {Finished} ORDER BY finished_at DESC, ord DESC LIMIT @n", ("n", (long)limit));
        newest.Reverse();
        return (IReadOnlyList<StoredJob>)newest;
    });

    public int PendingCount() => Use(c => Convert.ToInt32(ScalarObject(c, null, "SELECT COUNT(*) FROM jobs WHERE state = 'pending'")));

    public bool CancelPending(string jobId, DateTimeOffset at) => Use(c =>
    {
        using var transaction = c.BeginTransaction();
        var cancelled = Execute(c, transaction, "UPDATE jobs SET state = 'cancelled', finished_at = @t WHERE id = @id AND state = 'pending'",
            ("t", at.UtcTicks), ("id", jobId)) > 0;
        if (cancelled) Notify(c, transaction, EventsChannel, jobId);
        transaction.Commit();
        return cancelled;
    });

    public bool RequestCancel(string jobId) =>
        Use(c => Execute(c, null, "UPDATE jobs SET cancel_requested = 1 WHERE id = @id AND state = 'running'", ("id", jobId)) > 0);

    public IReadOnlyList<StoredEvent> Events(string jobId, long afterSequence) => Use(c =>
    {
        using var command = Command(c, null, "SELECT seq, body FROM job_events WHERE job_id = @id AND seq > @after ORDER BY seq",
            [("id", jobId), ("after", afterSequence)]);
        using var reader = command.ExecuteReader();
        var events = new List<StoredEvent>();
        while (reader.Read()) events.Add(new StoredEvent(reader.GetInt64(0), reader.GetString(1)));
        return (IReadOnlyList<StoredEvent>)events;
    });

    public void Ping() => Use(c => ScalarObject(c, null, "SELECT 1"));

    /// <summary>The first subscriber starts one LISTEN connection (reconnecting after a failure); the last one stops it.</summary>
    public event Action<SharedChange>? Changed
    {
        add
        {
            lock (_listenGate)
            {
                _changed += value;
                if (_listening is not null) return;
                _listening = new CancellationTokenSource();
                var stop = _listening.Token;
                _ = Task.Run(() => ListenAsync(stop));
            }
        }
        remove
        {
            lock (_listenGate)
            {
                _changed -= value;
                if (_changed is null) StopListening();
            }
        }
    }

    private void StopListening()
    {
        lock (_listenGate)
        {
            _listening?.Cancel();
            _listening = null;
        }
    }

    private async Task ListenAsync(CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            try
            {
                await using var connection = await _dataSource.OpenConnectionAsync(stop).ConfigureAwait(false);
                connection.Notification += (_, n) => _changed?.Invoke(new SharedChange(
                    n.Channel == JobsChannel ? SharedChangeKind.JobQueued : SharedChangeKind.EventsStored, n.Payload));
                await using (var listen = new NpgsqlCommand($"LISTEN {JobsChannel}; LISTEN {EventsChannel}", connection))
                    await listen.ExecuteNonQueryAsync(stop).ConfigureAwait(false);
                // Whatever was announced while not listening: look now.
                _changed?.Invoke(new SharedChange(SharedChangeKind.JobQueued, ""));
                _changed?.Invoke(new SharedChange(SharedChangeKind.EventsStored, ""));
                while (true) await connection.WaitAsync(stop).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested) { return; }
            catch (Exception e) when (e is NpgsqlException or IOException or TimeoutException or InvalidOperationException)
            {
                try { await Task.Delay(TimeSpan.FromSeconds(1), stop).ConfigureAwait(false); }
                catch (OperationCanceledException) { return; }
            }
        }
    }

    /// <summary>Inserts events (a repeated sequence number is ignored); with a worker, only while it still owns the job.</summary>
    private static void InsertEvents(DbConnection connection, DbTransaction transaction, string jobId, string? workerId, IReadOnlyList<StoredEvent> events)
    {
        if (events.Count == 0) return;
        var owned = workerId is null ? "" : " WHERE EXISTS (SELECT 1 FROM jobs WHERE id = @id AND state = 'running' AND claimed_by = @w)";
        using var command = new NpgsqlCommand(
            $"INSERT INTO job_events (job_id, seq, body) SELECT @id, s, b FROM unnest(@seqs, @bodies) AS e(s, b){owned} ON CONFLICT DO NOTHING",
            (NpgsqlConnection)connection, (NpgsqlTransaction)transaction);
        command.Parameters.AddWithValue("id", jobId);
        command.Parameters.AddWithValue("w", (object?)workerId ?? DBNull.Value).NpgsqlDbType = NpgsqlDbType.Text;
        command.Parameters.AddWithValue("seqs", events.Select(e => e.Sequence).ToArray());
        command.Parameters.AddWithValue("bodies", events.Select(e => e.Body).ToArray());
        command.ExecuteNonQuery();
    }

    private static void Notify(DbConnection connection, DbTransaction transaction, string channel, string payload) =>
        ScalarObject(connection, transaction, "SELECT pg_notify(@c, @p)", ("c", channel), ("p", payload));

    private static object? ScalarObject(DbConnection connection, DbTransaction? transaction, string sql, params (string Name, object? Value)[] parameters)
    {
        using var command = Command(connection, transaction, sql, parameters);
        var value = command.ExecuteScalar();
        return value is DBNull ? null : value;
    }
}
