using System.Data;
using System.Data.Common;
using CharacterGen.GraphRuntime.Execution;
using CharacterGen.GraphRuntime.Jobs;

namespace CharacterGen.Server.Storage;

/// <summary>
/// The <see cref="IJobStore"/> over any ADO.NET provider: one table (jobs), the same SQL text and @name parameters
/// for SQLite and PostgreSQL. Each call opens a pooled connection and commits before it returns; calls that write
/// two things (finish + evict, migrations) run in one transaction. Provider errors become <see cref="JobStoreException"/>.
/// </summary>
public abstract class SqlJobStore : IJobStore, IDisposable
{
    internal const string Columns =
        "id, ord, number, client_request_id, workflow, extra_data, output_targets, state, created_at, started_at, finished_at, outputs, error, timings, cancelled_at_node";
    private const string Unfinished = "state IN ('pending', 'running')";

    /// <summary>A human name for errors ("SQLite database data/jobs.db").</summary>
    protected abstract string Describe { get; }

    /// <summary>An open connection, configured for durability (the caller disposes it).</summary>
    protected abstract DbConnection OpenConnection();

    /// <summary>True when the database could not write because its disk is full (then clients get "storage full").</summary>
    protected abstract bool IsDiskFull(DbException e);

    /// <summary>Serialises migrations between processes sharing the database; runs inside the migration transaction.</summary>
    protected virtual void LockForMigration(DbConnection connection, DbTransaction transaction) { }

    /// <summary>Creates or upgrades the schema to <see cref="JobStoreSchema.LatestVersion"/>; returns the version found before.</summary>
    public int Migrate() => Guard(() =>
    {
        using var connection = OpenConnection();
        using var transaction = connection.BeginTransaction();
        LockForMigration(connection, transaction);
        Execute(connection, transaction, JobStoreSchema.VersionTable);
        var found = Convert.ToInt32(Scalar(connection, transaction, "SELECT COALESCE(MAX(version), 0) FROM schema_version") ?? 0);
        if (found > JobStoreSchema.LatestVersion)
            throw new JobStoreException($"The {Describe} has schema version {found}, newer than this server's {JobStoreSchema.LatestVersion}; upgrade the server.");
        for (var version = found + 1; version <= JobStoreSchema.LatestVersion; version++)
        {
            foreach (var statement in JobStoreSchema.Migrations[version - 1]) Execute(connection, transaction, statement);
            Execute(connection, transaction, "INSERT INTO schema_version (version, applied_at) VALUES (@v, @t)",
                ("v", version), ("t", DateTimeOffset.UtcNow.UtcTicks));
        }
        transaction.Commit();
        return found;
    });

    /// <summary>The schema version the database is at now.</summary>
    public int SchemaVersion() => Guard(() =>
    {
        using var connection = OpenConnection();
        return Convert.ToInt32(Scalar(connection, null, "SELECT COALESCE(MAX(version), 0) FROM schema_version") ?? 0);
    });

    public StoredJobs Load() => Guard(() =>
    {
        using var connection = OpenConnection();
        var unfinished = Query(connection, $"SELECT {Columns} FROM jobs WHERE {Unfinished} ORDER BY number, ord");
        var finished = Query(connection, $"SELECT {Columns} FROM jobs WHERE NOT ({Unfinished}) ORDER BY finished_at, ord");
        return new StoredJobs(unfinished, finished);
    });

    public void Add(StoredJob job) => Guard(() =>
    {
        using var connection = OpenConnection();
        Insert(connection, null, job);
    });

    public void MarkRunning(string jobId, DateTimeOffset startedAt) => Guard(() =>
    {
        using var connection = OpenConnection();
        Execute(connection, null, "UPDATE jobs SET state = 'running', started_at = @t WHERE id = @id",
            ("t", startedAt.UtcTicks), ("id", jobId));
    });

    public void Finish(StoredJob job, IReadOnlyCollection<string> evicted) => Guard(() =>
    {
        using var connection = OpenConnection();
        using var transaction = connection.BeginTransaction();
        var updated = Execute(connection, transaction,
            "UPDATE jobs SET state = @state, started_at = @started, finished_at = @finished, outputs = @outputs, error = @error, " +
            "timings = @timings, cancelled_at_node = @cancelled WHERE id = @id",
            ("state", StateName(job.Status)), ("started", Ticks(job.StartedAt)), ("finished", Ticks(job.FinishedAt)),
            ("outputs", job.Outputs), ("error", job.Error), ("timings", job.Timings), ("cancelled", job.CancelledAtNode), ("id", job.Id));
        if (updated == 0) Insert(connection, transaction, job); // pruned meanwhile, or written by an older engine: keep the outcome
        foreach (var id in evicted) DeleteJob(connection, transaction, id);
        transaction.Commit();
    });

    public void Delete(IReadOnlyCollection<string> jobIds) => Guard(() =>
    {
        if (jobIds.Count == 0) return;
        using var connection = OpenConnection();
        using var transaction = connection.BeginTransaction();
        foreach (var id in jobIds) DeleteJob(connection, transaction, id);
        transaction.Commit();
    });

    public virtual void Dispose() => GC.SuppressFinalize(this);

    /// <summary>Runs <paramref name="work"/> on an open connection with this store's error translation (the character tables share the database).</summary>
    internal T Use<T>(Func<DbConnection, T> work) => Guard(() =>
    {
        using var connection = OpenConnection();
        return work(connection);
    });

    internal static void Insert(DbConnection connection, DbTransaction? transaction, StoredJob job) =>
        Execute(connection, transaction,
            $"INSERT INTO jobs ({Columns}) VALUES (@id, @ord, @number, @request, @workflow, @extra, @targets, @state, @created, " +
            "@started, @finished, @outputs, @error, @timings, @cancelled)",
            ("id", job.Id), ("ord", job.Order), ("number", job.Number), ("request", job.ClientRequestId), ("workflow", job.Workflow),
            ("extra", job.ExtraData), ("targets", job.OutputTargets), ("state", StateName(job.Status)), ("created", job.CreatedAt.UtcTicks),
            ("started", Ticks(job.StartedAt)), ("finished", Ticks(job.FinishedAt)), ("outputs", job.Outputs), ("error", job.Error),
            ("timings", job.Timings), ("cancelled", job.CancelledAtNode));

    internal static List<StoredJob> Query(DbConnection connection, string sql, params (string Name, object? Value)[] parameters) =>
        Query(connection, null, sql, parameters);

    internal static List<StoredJob> Query(DbConnection connection, DbTransaction? transaction, string sql, params (string Name, object? Value)[] parameters)
    {
        using var command = Command(connection, transaction, sql, parameters);
        using var reader = command.ExecuteReader();
        var jobs = new List<StoredJob>();
        while (reader.Read())
            jobs.Add(new StoredJob
            {
                Id = reader.GetString(0),
                Order = reader.GetInt64(1),
                Number = reader.GetDouble(2),
                ClientRequestId = Text(reader, 3),
                Workflow = reader.GetString(4),
                ExtraData = reader.GetString(5),
                OutputTargets = Text(reader, 6),
                Status = StatusOf(reader.GetString(7)),
                CreatedAt = Time(reader, 8)!.Value,
                StartedAt = Time(reader, 9),
                FinishedAt = Time(reader, 10),
                Outputs = Text(reader, 11),
                Error = Text(reader, 12),
                Timings = Text(reader, 13),
                CancelledAtNode = Text(reader, 14),
            });
        return jobs;
    }

    /// <summary>A job and its stored events (kept only by a shared queue).</summary>
    private static void DeleteJob(DbConnection connection, DbTransaction transaction, string id)
    {
        Execute(connection, transaction, "DELETE FROM jobs WHERE id = @id", ("id", id));
        Execute(connection, transaction, "DELETE FROM job_events WHERE job_id = @id", ("id", id));
    }

    private static string? Text(DbDataReader reader, int i) => reader.IsDBNull(i) ? null : reader.GetString(i);

    private static DateTimeOffset? Time(DbDataReader reader, int i) =>
        reader.IsDBNull(i) ? null : new DateTimeOffset(reader.GetInt64(i), TimeSpan.Zero);

    internal static int Execute(DbConnection connection, DbTransaction? transaction, string sql, params (string Name, object? Value)[] parameters)
    {
        using var command = Command(connection, transaction, sql, parameters);
        return command.ExecuteNonQuery();
    }

    private static object? Scalar(DbConnection connection, DbTransaction? transaction, string sql)
    {
        using var command = Command(connection, transaction, sql, []);
        return command.ExecuteScalar();
    }

    internal static DbCommand Command(DbConnection connection, DbTransaction? transaction, string sql, (string Name, object? Value)[] parameters)
    {
        var command = connection.CreateCommand();
        command.CommandText = sql;
        command.Transaction = transaction;
        foreach (var (name, value) in parameters)
        {
            var parameter = command.CreateParameter();
            parameter.ParameterName = name;
            switch (value)
            {
                case TypedNull typed:
                    parameter.Value = DBNull.Value;
                    parameter.DbType = typed.Type;
                    break;
                case null: // the other nullable columns are text; PostgreSQL needs the type even for NULL
                    parameter.Value = DBNull.Value;
                    parameter.DbType = DbType.String;
                    break;
                default:
                    parameter.Value = value;
                    break;
            }
            command.Parameters.Add(parameter);
        }
        return command;
    }

    /// <summary>A NULL of a given column type.</summary>
    private sealed record TypedNull(DbType Type);

    internal static string StateOf(JobStatus status) => StateName(status);

    internal static object Ticks(DateTimeOffset? time) => time is { } t ? t.UtcTicks : new TypedNull(DbType.Int64);

    private static string StateName(JobStatus status) => status.ToString().ToLowerInvariant();

    private static JobStatus StatusOf(string state) =>
        Enum.TryParse<JobStatus>(state, ignoreCase: true, out var status) ? status : throw new JobStoreException($"Unknown job state '{state}' in the store.");

    internal T Guard<T>(Func<T> call)
    {
        try { return call(); }
        catch (DbException e) when (IsDiskFull(e)) { throw new CharacterGen.Nodes.Files.StorageFullException("job database", e); }
        catch (DbException e) { throw new JobStoreException($"The {Describe} failed: {e.Message}", e); }
    }

    internal void Guard(Action call) => Guard(() => { call(); return 0; });
}
