using Microsoft.Extensions.Configuration;

namespace CharacterGen.Server.Hosting;

/// <summary>Raised when configuration cannot be read or is invalid; the CLI prints the errors and exits with 2.</summary>
public sealed class ServerOptionsException(IReadOnlyList<string> errors)
    : Exception("Invalid server configuration:" + Environment.NewLine + string.Join(Environment.NewLine, errors.Select(e => "  " + e)))
{
    public IReadOnlyList<string> Errors { get; } = errors;
}

/// <summary>
/// Reads <see cref="ServerOptions"/> from a JSON file, environment variables and command-line values.
/// Keys are the option names, nested with ':' (JSON objects) or '__' (environment), case-insensitive:
/// <c>CHARACTERGEN_GRPCPORT=50052</c>, <c>CHARACTERGEN_GRPC__MAXRECEIVEMESSAGEBYTES=8388608</c>,
/// <c>CHARACTERGEN_AUTH__APIKEYS__0=…</c>.
/// </summary>
public static class ServerConfiguration
{
    public const string EnvironmentPrefix = "CHARACTERGEN_";

    /// <exception cref="ServerOptionsException">Unreadable file, unconvertible value, or failed validation.</exception>
    public static ServerOptions Load(
        string? configFile, IReadOnlyDictionary<string, string?> commandLine, string environmentPrefix = EnvironmentPrefix)
    {
        if (configFile is not null && !File.Exists(configFile))
            throw new ServerOptionsException([$"Configuration file '{configFile}' does not exist."]);

        var builder = new ConfigurationBuilder();
        if (configFile is not null) builder.AddJsonFile(Path.GetFullPath(configFile), optional: false, reloadOnChange: false);
        builder.AddEnvironmentVariables(environmentPrefix);
        builder.AddInMemoryCollection(commandLine);

        ServerOptions options;
        try
        {
            options = builder.Build().Get<ServerOptions>() ?? new ServerOptions();
        }
        catch (Exception e) when (e is InvalidOperationException or FormatException or InvalidDataException)
        {
            // Binder messages name the key and the type ("…at 'GrpcPort' to type 'System.Int32'").
            throw new ServerOptionsException([e.InnerException is null ? e.Message : $"{e.Message} {e.InnerException.Message}"]);
        }

        var errors = options.Validate();
        if (errors.Count > 0) throw new ServerOptionsException(errors);
        return options;
    }
}
