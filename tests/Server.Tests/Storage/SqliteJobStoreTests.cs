using System.Data.Common;
using CharacterGen.Server.Storage;
using Microsoft.Data.Sqlite;

namespace CharacterGen.Server.Tests.Storage;

[TestFixture]
public sealed class SqliteJobStoreTests : JobStoreContract
{
    private string _dir = null!;

    private string DatabasePath => Path.Combine(_dir, SqliteJobStore.DefaultFileName);

    [SetUp]
    public void CreateFolder() => _dir = Directory.CreateTempSubdirectory("cg-sqlite-store-").FullName;

    [TearDown]
    public void DeleteFolder()
    {
        CloseStores();
        SqliteConnection.ClearAllPools();
        Directory.Delete(_dir, recursive: true);
    }

    protected override SqlJobStore OpenStore() => new SqliteJobStore(DatabasePath);

    protected override DbConnection OpenRaw()
    {
        CharacterGen.Server.Storage.SystemSqlite.EnsureInitialized();
        var connection = new SqliteConnection($"Data Source={DatabasePath};Pooling=False");
        connection.Open();
        return connection;
    }

    [Test]
    public void The_database_is_in_wal_mode_and_passes_the_integrity_check()
    {
        Open().Add(new GraphRuntime.Jobs.StoredJob
        {
            Id = "a", Order = 1, Number = 1, Workflow = "{}", ExtraData = "{}",
            Status = GraphRuntime.Execution.JobStatus.Pending, CreatedAt = DateTimeOffset.UnixEpoch,
        });
        using var raw = OpenRaw();
        using var mode = raw.CreateCommand();
        mode.CommandText = "PRAGMA journal_mode";
        Assert.That(mode.ExecuteScalar(), Is.EqualTo("wal"));
        using var check = raw.CreateCommand();
        check.CommandText = "PRAGMA integrity_check";
        Assert.That(check.ExecuteScalar(), Is.EqualTo("ok"));
    }
}
