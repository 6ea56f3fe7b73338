using Npgsql;

namespace CharacterGen.Server.Storage;

/// <summary>
/// The <c>Database</c> option: empty means SQLite (jobs.db in the data folder); otherwise PostgreSQL, given as a URL
/// (<c>postgres://user:password@host:5432/db?sslmode=require</c>) or an Npgsql connection string
/// (<c>Host=…;Database=…;Username=…</c>).
/// </summary>
public static class DatabaseOption
{
    public static bool IsPostgres(string? value) => !string.IsNullOrWhiteSpace(value);

    /// <summary>Problems with the value, for start-up validation (never echoes a password).</summary>
    public static IReadOnlyList<string> Validate(string? value)
    {
        if (!IsPostgres(value)) return [];
        try
        {
            var builder = ToNpgsql(value!);
            return string.IsNullOrEmpty(builder.Host) ? ["Database must name a PostgreSQL host."] : [];
        }
        catch (Exception e) when (e is ArgumentException or UriFormatException or FormatException or KeyNotFoundException)
        {
            return ["Database is neither a postgres:// URL nor an Npgsql connection string (Host=…;Database=…)."];
        }
    }

    public static NpgsqlConnectionStringBuilder ToNpgsql(string value)
    {
        value = value.Trim();
        if (!value.StartsWith("postgres://", StringComparison.OrdinalIgnoreCase) &&
            !value.StartsWith("postgresql://", StringComparison.OrdinalIgnoreCase))
            return new NpgsqlConnectionStringBuilder(value);

        var uri = new Uri(value);
        var builder = new NpgsqlConnectionStringBuilder
        {
            Host = Uri.UnescapeDataString(uri.Host),
            Port = uri.IsDefaultPort || uri.Port <= 0 ? 5432 : uri.Port,
            Database = Uri.UnescapeDataString(uri.AbsolutePath.TrimStart('/')) is { Length: > 0 } db ? db : "postgres",
        };
        if (uri.UserInfo.Length > 0)
        {
            var parts = uri.UserInfo.Split(':', 2);
            builder.Username = Uri.UnescapeDataString(parts[0]);
            if (parts.Length == 2) builder.Password = Uri.UnescapeDataString(parts[1]);
        }
        foreach (var pair in uri.Query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var kv = pair.Split('=', 2);
            var key = Uri.UnescapeDataString(kv[0]);
            var setting = kv.Length == 2 ? Uri.UnescapeDataString(kv[1]) : "";
            builder[key.Equals("sslmode", StringComparison.OrdinalIgnoreCase) ? "SSL Mode" : key] = setting;
        }
        return builder;
    }
}
