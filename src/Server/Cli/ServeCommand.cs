using System.CommandLine;
using System.Security.Cryptography;
using CharacterGen.Nodes.Files;
using CharacterGen.Nodes.ModelCaching;
using CharacterGen.Server.Hosting;

namespace CharacterGen.Server.Cli;

/// <summary>`charactergen serve`: runs the gRPC and HTTP server until SIGTERM/Ctrl-C.</summary>
public static class ServeCommand
{
    public const int ExitInvalidOptions = 2;
    public const int ExitStartFailed = 1;

    public static Command Create()
    {
        // Values are taken as text and converted by the configuration binder, so a bad value reads the
        // same (and exits 2) whether it came from the command line, the environment or the JSON file.
        var settings = new (Option<string> Option, string Key)[]
        {
            (Text("--grpc-port", "PORT", $"gRPC (HTTP/2) port; 0 picks a free one [default: {ServerOptions.DefaultGrpcPort}]"), nameof(ServerOptions.GrpcPort)),
            (Text("--http-port", "PORT", $"HTTP/1.1 port: the ComfyUI-compatible HTTP and WebSocket API [default: {ServerOptions.DefaultHttpPort}]"), nameof(ServerOptions.HttpPort)),
            (Text("--listen", "ADDRESS", $"IP address to bind [default: {ServerOptions.DefaultListenAddress}]"), nameof(ServerOptions.ListenAddress)),
            (Text("--data", "DIR", $"Server data folder (assets, outputs, job store) [default: {ServerOptions.DefaultDataDir}]"), nameof(ServerOptions.DataDir)),
            (Text("--database", "URL", "Job store: a PostgreSQL postgres:// URL or connection string [default: SQLite jobs.db in --data]"), nameof(ServerOptions.Database)),
            (Text("--role", "all|api|worker", "With PostgreSQL: api nodes accept and serve but never run jobs, workers run them [default: all]"), "Cluster:Role"),
            (Text("--lease-seconds", "SECONDS", $"With PostgreSQL: a worker's claim on a job lasts this long without a heartbeat [default: {ClusterOptions.DefaultLeaseSeconds}]"), "Cluster:LeaseSeconds"),
            (Text("--history-size", "N", "Finished jobs kept in history [default: 1000]"), "Engine:HistorySize"),
            (Text("--history-max-age", "D.HH:MM:SS", "Finished jobs older than this leave history [default: no age limit]"), "Engine:HistoryMaxAge"),
            (Text("--models", "DIR", $"ComfyUI-style models folder [default: {ServerOptions.DefaultModelsDir}]"), nameof(ServerOptions.ModelsDir)),
            (Text("--workflows", "DIR", $"Saved workflows folder [default: {ServerOptions.DefaultWorkflowsDir}]"), nameof(ServerOptions.WorkflowsDir)),
            (Text("--web-root", "DIR", $"The built web page served at / on the HTTP port [default: {ServerOptions.DefaultWebRoot}]"), nameof(ServerOptions.WebRoot)),
            (Text("--shutdown-timeout", "SECONDS", $"Grace period for in-flight calls on shutdown [default: {ServerOptions.DefaultShutdownTimeoutSeconds}]"), nameof(ServerOptions.ShutdownTimeoutSeconds)),
            (Text("--memory-budget", "BYTES", "Peak memory one job may need (estimated at validation) [default: 3/4 of the free device memory on CUDA, of the machine's memory on the CPU]"), nameof(ServerOptions.MemoryBudgetBytes)),
            (Text("--retry-after", "SECONDS", $"Back-off hint sent when the queue is full [default: {ServerOptions.DefaultRetryAfterSeconds}]"), nameof(ServerOptions.RetryAfterSeconds)),
            (Text("--max-receive-message-bytes", "BYTES", "Largest gRPC request message [default: 4194304]"), "Grpc:MaxReceiveMessageBytes"),
            (Text("--max-send-message-bytes", "BYTES", "Largest gRPC response message [default: 4194304]"), "Grpc:MaxSendMessageBytes"),
            (Text("--response-compression", "identity|gzip", "Compress responses for clients that accept gzip [default: identity]"), "Grpc:ResponseCompression"),
            (Text("--max-upload-bytes", "BYTES", "Largest asset upload [default: 268435456]"), "Assets:MaxUploadBytes"),
            (Text("--otlp-endpoint", "URL", "Send metrics and traces to this OTLP collector [default: $OTEL_EXPORTER_OTLP_ENDPOINT, else none]"), "Telemetry:OtlpEndpoint"),
            (Text("--tls-cert", "FILE", "Certificate (PEM or .pfx) to serve gRPC over TLS"), "Tls:CertificatePath"),
            (Text("--tls-key", "FILE", "PEM private key for --tls-cert"), "Tls:KeyPath"),
        };
        var apiKeys = Secrets("--api-key", "KEY", "Accept this x-api-key (repeatable; prefer CHARACTERGEN_AUTH__APIKEYS__0, command lines are visible to other users)");
        var bearerTokens = Secrets("--bearer-token", "TOKEN", "Accept this 'authorization: Bearer' token (repeatable)");
        var extraModelPaths = new Option<string[]>("--extra-model-paths-config")
        {
            Description = "An extra_model_paths.yaml as ComfyUI reads it (repeatable); the models folder's own is always read",
            HelpName = "FILE",
        };
        var metrics = new Option<bool>("--metrics") { Description = "Serve Prometheus metrics at /metrics on the HTTP port (behind auth when it is on)" };
        var noReflection = new Option<bool>("--no-reflection") { Description = "Do not serve gRPC server reflection" };
        var allowRemote = new Option<bool>("--allow-unauthenticated-remote")
        {
            Description = "Allow a non-loopback --listen address without authentication (e.g. behind an authenticating proxy)",
        };
        var configFile = new Option<string>("--config") { Description = "JSON configuration file (keys as in ServerOptions)", HelpName = "FILE" };

        var command = new Command("serve", "Run the gRPC and HTTP server. Settings also come from CHARACTERGEN_* environment variables and --config.");
        foreach (var (option, _) in settings) command.Options.Add(option);
        command.Options.Add(apiKeys);
        command.Options.Add(bearerTokens);
        command.Options.Add(extraModelPaths);
        command.Options.Add(metrics);
        command.Options.Add(noReflection);
        command.Options.Add(allowRemote);
        command.Options.Add(configFile);

        // Synchronous on purpose: System.CommandLine ends an async action 2 s after SIGTERM/Ctrl-C,
        // which would cut graceful shutdown short. The host handles those signals itself.
        command.SetAction(parseResult =>
        {
            var overrides = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
            foreach (var (option, key) in settings)
                if (parseResult.GetValue(option) is { } value) overrides[key] = value;
            AddList(overrides, "Auth:ApiKeys", parseResult.GetValue(apiKeys));
            AddList(overrides, "Auth:BearerTokens", parseResult.GetValue(bearerTokens));
            AddList(overrides, nameof(ServerOptions.ExtraModelPaths), parseResult.GetValue(extraModelPaths)?.Select(Path.GetFullPath).ToArray());
            if (parseResult.GetValue(metrics)) overrides["Telemetry:Metrics"] = "true";
            if (parseResult.GetValue(noReflection)) overrides["Grpc:EnableReflection"] = "false";
            if (parseResult.GetValue(allowRemote)) overrides[nameof(ServerOptions.AllowUnauthenticatedRemote)] = "true";
            return Run(parseResult.GetValue(configFile), overrides, parseResult.InvocationConfiguration.Error);
        });
        return command;
    }

    /// <summary>Loads and validates options, then serves until stopped. 0: clean exit; 2: bad configuration; 1: could not start.</summary>
    public static int Run(string? configFile, IReadOnlyDictionary<string, string?> overrides, TextWriter error)
    {
        ServerOptions options;
        try
        {
            options = ServerConfiguration.Load(configFile, overrides);
        }
        catch (ServerOptionsException e)
        {
            error.WriteLine(e.Message);
            return ExitInvalidOptions;
        }
        WarnAboutMissingAliasFiles(options, error);

        try
        {
            CharacterGenHost.RunAsync(options).GetAwaiter().GetResult();
            return 0;
        }
        catch (CryptographicException e)
        {
            error.WriteLine($"Could not load the TLS certificate: {e.Message}");
            return ExitInvalidOptions;
        }
        catch (IOException e)
        {
            error.WriteLine($"Could not start the server: {e.Message}");
            return ExitStartFailed;
        }
        catch (CharacterGen.GraphRuntime.Jobs.JobStoreException e)
        {
            error.WriteLine($"Could not open the job store: {e.Message}");
            return ExitStartFailed;
        }
    }

    /// <summary>
    /// One warning line per file a model alias names that is not there. Not fatal: it may be copied in later, and the
    /// job that uses the alias fails naming it.
    /// </summary>
    public static void WarnAboutMissingAliasFiles(ServerOptions options, TextWriter error)
    {
        foreach (string missing in ModelAliases.From(options.ModelAliases).MissingFiles(options.OpenModelFolders()))
            error.WriteLine("warning: " + missing);
    }

    private static Option<string> Text(string name, string helpName, string description) =>
        new(name) { Description = description, HelpName = helpName };

    private static Option<string[]> Secrets(string name, string helpName, string description) =>
        new(name) { Description = description, HelpName = helpName, AllowMultipleArgumentsPerToken = false };

    private static void AddList(Dictionary<string, string?> overrides, string key, string[]? values)
    {
        for (var i = 0; values is not null && i < values.Length; i++) overrides[$"{key}:{i}"] = values[i];
    }
}
