using System.Data.Common;
using CharacterGen.Server.Storage;
using Npgsql;

namespace CharacterGen.Server.Tests.Storage;

/// <summary>The contract against a throwaway PostgreSQL cluster (a visible skip without one, a failure on CI).</summary>
[TestFixture]
public sealed class PostgresJobStoreTests : JobStoreContract
{
    private string _connection = null!;

    [SetUp]
    public void CreateDatabase() => _connection = PostgresServer.Require().CreateDatabase();

    protected override SqlJobStore OpenStore() => new PostgresJobStore(_connection);

    protected override DbConnection OpenRaw()
    {
        var connection = new NpgsqlConnection(_connection);
        connection.Open();
        return connection;
    }

    [Test]
    public void A_postgres_url_names_the_same_database_as_the_connection_string()
    {
        var builder = new NpgsqlConnectionStringBuilder(_connection);
        var url = $"postgres://{builder.Username}@{builder.Host}:{builder.Port}/{builder.Database}";
        using (var store = new PostgresJobStore(_connection))
            store.Add(new GraphRuntime.Jobs.StoredJob
            {
                Id = "a", Order = 1, Number = 1, Workflow = "{}", ExtraData = "{}",
                Status = GraphRuntime.Execution.JobStatus.Pending, CreatedAt = DateTimeOffset.UnixEpoch,
            });
        using var viaUrl = new PostgresJobStore(url);
        Assert.That(viaUrl.Load().Unfinished.Single().Id, Is.EqualTo("a"));
    }
}

/// <summary>Reading the Database option (no server needed).</summary>
public sealed class DatabaseOptionTests
{
    [TestCase("postgres://u:p%40ss@db.example:6543/jobs?sslmode=require", "db.example", 6543, "jobs", "u", "p@ss")]
    [TestCase("postgresql://db.example/", "db.example", 5432, "postgres", null, null)]
    [TestCase("Host=h;Port=5433;Database=d;Username=x", "h", 5433, "d", "x", null)]
    public void Database_option_forms(string value, string host, int port, string database, string? user, string? password)
    {
        Assert.That(DatabaseOption.Validate(value), Is.Empty);
        var b = DatabaseOption.ToNpgsql(value);
        Assert.That((b.Host, b.Port, b.Database, b.Username, b.Password), Is.EqualTo((host, port, database, user, password)));
    }

    [Test]
    public void A_bad_database_option_is_a_start_up_error_that_shows_no_password()
    {
        var errors = DatabaseOption.Validate("Host=h;Passwrd=secret;=");
        Assert.That(errors, Has.Count.EqualTo(1));
        Assert.That(errors[0], Does.Not.Contain("secret"));
    }
}
