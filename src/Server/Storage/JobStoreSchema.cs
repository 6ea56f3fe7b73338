namespace CharacterGen.Server.Storage;

/// <summary>
/// The job store's schema as ordered migrations, one SQL text for SQLite and PostgreSQL (types both accept: TEXT,
/// BIGINT, DOUBLE PRECISION; times as UTC ticks). Append a migration to change the schema; never edit a shipped one.
/// The version applied is kept in schema_version, one row per migration.
/// </summary>
internal static class JobStoreSchema
{
    public const string VersionTable =
        "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL PRIMARY KEY, applied_at BIGINT NOT NULL)";

    /// <summary>Migration n (1-based) is Migrations[n - 1]: statements run in one transaction.</summary>
    public static readonly IReadOnlyList<string[]> Migrations =
    [
        [
            """
            CREATE TABLE jobs (
                id TEXT NOT NULL PRIMARY KEY,
                ord BIGINT NOT NULL,
                number DOUBLE PRECISION NOT NULL,
                client_request_id TEXT UNIQUE,
                workflow TEXT NOT NULL,
                extra_data TEXT NOT NULL,
                output_targets TEXT,
                state TEXT NOT NULL,
                created_at BIGINT NOT NULL,
                started_at BIGINT,
                finished_at BIGINT,
                outputs TEXT,
                error TEXT,
                timings TEXT,
                cancelled_at_node TEXT
            )
            """,
            "CREATE INDEX jobs_queue ON jobs (state, number, ord)",
            "CREATE INDEX jobs_history ON jobs (finished_at, ord)",
        ],
        Characters.CharacterSchema.Tables, // the character pipeline (src/Server/Characters)
        [
            // The shared queue (several nodes on one PostgreSQL, see PostgresSharedQueue.cs): who holds a running job
            // and until when, whether a client asked to cancel it, and every job's events for nodes that did not run it.
            "ALTER TABLE jobs ADD COLUMN claimed_by TEXT",
            "ALTER TABLE jobs ADD COLUMN lease_until BIGINT",
            "ALTER TABLE jobs ADD COLUMN attempts BIGINT NOT NULL DEFAULT 0",
            "ALTER TABLE jobs ADD COLUMN cancel_requested INTEGER NOT NULL DEFAULT 0",
            "CREATE TABLE job_events (job_id TEXT NOT NULL, seq BIGINT NOT NULL, body TEXT NOT NULL, PRIMARY KEY (job_id, seq))",
        ],
    ];

    public static int LatestVersion => Migrations.Count;
}
