using System.Data.Common;
using Microsoft.Data.Sqlite;

namespace CharacterGen.Server.Storage;

/// <summary>
/// The default job store: one SQLite file (jobs.db in the data folder) in WAL mode with synchronous=FULL, so a commit
/// survives kill -9 and power loss before the engine acknowledges it, and readers never block the writer.
/// </summary>
public sealed class SqliteJobStore : SqlJobStore
{
    public const string DefaultFileName = "jobs.db";

    private readonly string _connectionString;

    public SqliteJobStore(string path)
    {
        SystemSqlite.EnsureInitialized();
        Path = System.IO.Path.GetFullPath(path);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(Path)!);
        _connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = Path,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Pooling = true,
            DefaultTimeout = 30, // seconds a writer waits for another (busy_timeout)
        }.ToString();
        using (var connection = OpenConnection())
        using (var wal = connection.CreateCommand())
        {
            wal.CommandText = "PRAGMA journal_mode=WAL"; // persistent in the file
            wal.ExecuteNonQuery();
        }
        Migrate();
    }

    public string Path { get; }

    protected override string Describe => $"SQLite job store {System.IO.Path.GetFileName(Path)}";

    /// <summary>SQLITE_FULL (13), or an out-of-space I/O error underneath.</summary>
    protected override bool IsDiskFull(DbException e) =>
        e is SqliteException { SqliteErrorCode: 13 } || (e.InnerException is { } inner && CharacterGen.Nodes.Files.StorageFullException.IsDiskFull(inner));

    protected override DbConnection OpenConnection()
    {
        var connection = new SqliteConnection(_connectionString);
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA synchronous=FULL"; // per connection: fsync the WAL at every commit
        command.ExecuteNonQuery();
        return connection;
    }

    /// <summary>Closes the pooled connections, so the file is released (tests reopen it, or delete the folder).</summary>
    public override void Dispose()
    {
        using (var connection = new SqliteConnection(_connectionString)) SqliteConnection.ClearPool(connection);
        base.Dispose();
    }
}
