using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Npgsql;

namespace CharacterGen.Server.Tests.Storage;

/// <summary>
/// A throwaway PostgreSQL cluster for the tests: Debian's initdb/pg_ctl in a temp folder, on a free loopback port,
/// trust authentication, fsync off. Started once per test run on first use (as the postgres user when run as root:
/// PostgreSQL refuses to run as root), stopped by <see cref="StorageTestsTeardown"/>. Each test gets its own database.
/// </summary>
internal sealed class PostgresServer
{
    private static readonly Lazy<PostgresServer?> Shared = new(TryStart);
    private static string? _whyNot;
    private readonly string _dir;
    private readonly string _bin;
    private readonly bool _asPostgresUser;
    private int _databases;

    private string _settings = "";

    private PostgresServer(string dir, string bin, bool asPostgresUser, int port)
    {
        _dir = dir;
        _bin = bin;
        _asPostgresUser = asPostgresUser;
        Port = port;
    }

    public int Port { get; }

    /// <summary>
    /// The running cluster. Without one: a failure under CI=true (the CI box must run these), otherwise a visible skip.
    /// </summary>
    public static PostgresServer Require()
    {
        if (Shared.Value is { } server) return server;
        var message = $"PostgreSQL could not be started: {_whyNot} (scripts/deps.sh test installs the postgresql package)";
        CharacterGen.Server.Tests.Grpc.RealClients.Prerequisites.Missing(message);
        throw new InvalidOperationException("unreachable");
    }

    public static bool Started => Shared.IsValueCreated && Shared.Value is not null;

    /// <summary>A new empty database; its connection string.</summary>
    public string CreateDatabase()
    {
        var name = $"cg_test_{Environment.ProcessId}_{Interlocked.Increment(ref _databases)}";
        using (var admin = new NpgsqlConnection(ConnectionString("postgres")))
        {
            admin.Open();
            using var create = admin.CreateCommand();
            create.CommandText = $"CREATE DATABASE {name}";
            create.ExecuteNonQuery();
        }
        return ConnectionString(name);
    }

    public string ConnectionString(string database) =>
        new NpgsqlConnectionStringBuilder { Host = "127.0.0.1", Port = Port, Username = "postgres", Database = database, Pooling = false }.ToString();

    /// <summary>Stops the cluster (fast shutdown: sessions are cut) until <see cref="Resume"/>; the same port and data come back.</summary>
    public void Pause()
    {
        if (!Run(Path.Combine(_bin, "pg_ctl"), ["-D", Path.Combine(_dir, "data"), "-m", "fast", "-w", "stop"], out var output))
            throw new InvalidOperationException("pg_ctl stop failed: " + output);
    }

    public void Resume()
    {
        if (!Run(Path.Combine(_bin, "pg_ctl"), ["-D", Path.Combine(_dir, "data"), "-o", _settings, "-l", Path.Combine(_dir, "log"), "-w", "-t", "60", "start"], out var output))
            throw new InvalidOperationException("pg_ctl start failed: " + output + ReadLog(_dir));
    }

    public void Stop()
    {
        Run(Path.Combine(_bin, "pg_ctl"), ["-D", Path.Combine(_dir, "data"), "-m", "immediate", "-w", "stop"], out _);
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    private static PostgresServer? TryStart()
    {
        var bin = Directory.Exists("/usr/lib/postgresql")
            ? Directory.GetDirectories("/usr/lib/postgresql").Select(v => Path.Combine(v, "bin"))
                .Where(b => File.Exists(Path.Combine(b, "initdb"))).OrderDescending().FirstOrDefault()
            : null;
        if (bin is null)
        {
            _whyNot = "no /usr/lib/postgresql/*/bin/initdb";
            return null;
        }
        var asPostgresUser = Environment.UserName == "root";
        var dir = Path.Combine(Path.GetTempPath(), "cg-pg-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(dir);
        var port = FreePort();
        var server = new PostgresServer(dir, bin, asPostgresUser, port);
        if (asPostgresUser && !Exec("chown", ["postgres:postgres", dir], out var chownOutput))
        {
            _whyNot = "chown to the postgres user failed: " + chownOutput;
            return null;
        }
        var data = Path.Combine(dir, "data");
        if (!server.Run(Path.Combine(bin, "initdb"), ["-D", data, "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync"], out var initOutput))
        {
            _whyNot = "initdb failed: " + initOutput;
            return null;
        }
        var settings = $"-p {port} -k {dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=50";
        server._settings = settings;
        if (!server.Run(Path.Combine(bin, "pg_ctl"), ["-D", data, "-o", settings, "-l", Path.Combine(dir, "log"), "-w", "-t", "60", "start"], out var startOutput))
        {
            _whyNot = "pg_ctl start failed: " + startOutput + ReadLog(dir);
            return null;
        }
        return server;
    }

    private static string ReadLog(string dir)
    {
        try { return File.ReadAllText(Path.Combine(dir, "log")); } catch (IOException) { return ""; }
    }

    private bool Run(string file, string[] arguments, out string output) =>
        _asPostgresUser ? Exec("runuser", ["-u", "postgres", "--", file, .. arguments], out output) : Exec(file, arguments, out output);

    private static bool Exec(string file, IEnumerable<string> arguments, out string output)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = "/" };
        foreach (var a in arguments) start.ArgumentList.Add(a);
        try
        {
            using var process = Process.Start(start)!;
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(TimeSpan.FromSeconds(90)))
            {
                process.Kill(entireProcessTree: true);
                output = "timed out";
                return false;
            }
            output = stdout.Result + stderr.Result;
            return process.ExitCode == 0;
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            output = e.Message;
            return false;
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

/// <summary>Stops the shared PostgreSQL cluster after the storage tests.</summary>
[SetUpFixture]
public sealed class StorageTestsTeardown
{
    [OneTimeTearDown]
    public void StopPostgres()
    {
        if (PostgresServer.Started) PostgresServer.Require().Stop();
    }
}
