using System.Data.Common;
using Npgsql;

namespace CharacterGen.Server.Storage;

/// <summary>
/// The job store in PostgreSQL, for several servers sharing one database (and later one queue): the same schema and
/// migrations as SQLite. Migrations take an advisory lock, so servers starting together upgrade once.
/// </summary>
public sealed partial class PostgresJobStore : SqlJobStore
{
    private const long MigrationLockKey = 0x4347_4A4F_4253; // "CGJOBS"
    private readonly NpgsqlDataSource _dataSource;
    private readonly string _database;

    /// <param name="connection">A postgres:// URL or an Npgsql connection string (see <see cref="DatabaseOption"/>).</param>
    public PostgresJobStore(string connection)
    {
        var builder = DatabaseOption.ToNpgsql(connection);
        _database = $"{builder.Database}@{builder.Host}";
        _dataSource = NpgsqlDataSource.Create(builder);
        Migrate();
    }

    protected override string Describe => $"PostgreSQL job store {_database}";

    protected override DbConnection OpenConnection() => _dataSource.OpenConnection();

    /// <summary>SQLSTATE 53100 disk_full: the database server's disk, reported to clients as storage full.</summary>
    protected override bool IsDiskFull(DbException e) => e is Npgsql.PostgresException { SqlState: "53100" };

    protected override void LockForMigration(DbConnection connection, DbTransaction transaction)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = $"SELECT pg_advisory_xact_lock({MigrationLockKey})";
        command.ExecuteNonQuery();
    }

    public override void Dispose()
    {
        StopListening();
        _dataSource.Dispose();
        base.Dispose();
    }
}
