using System.Net;
using CharacterGen.Server.Assets;
using CharacterGen.Server.Grpc;

namespace CharacterGen.Server.Hosting;

/// <summary>
/// Everything `charactergen serve` is configured with. Bound from (lowest to highest precedence)
/// these defaults, an optional JSON file, <c>CHARACTERGEN_</c> environment variables and the command
/// line; validated before anything starts.
/// </summary>
public sealed record ServerOptions
{
    public const int DefaultGrpcPort = 50051;
    public const int DefaultHttpPort = 8188;
    public const string DefaultListenAddress = "127.0.0.1";
    public const string DefaultDataDir = "data";
    public const string DefaultModelsDir = "models";
    public const string DefaultWorkflowsDir = "workflows";
    public const string DefaultWebRoot = "web/dist";
    public const int DefaultShutdownTimeoutSeconds = 30;
    public const int DefaultRetryAfterSeconds = 5;

    /// <summary>gRPC over HTTP/2 (h2c, or TLS with a certificate). 0 picks a free port.</summary>
    public int GrpcPort { get; init; } = DefaultGrpcPort;

    /// <summary>HTTP/1.1: status page now, the ComfyUI-compatible API later. 0 picks a free port.</summary>
    public int HttpPort { get; init; } = DefaultHttpPort;

    /// <summary>IP address both ports bind to ("localhost", "127.0.0.1", "0.0.0.0", "::"). Loopback by default.</summary>
    public string ListenAddress { get; init; } = DefaultListenAddress;

    /// <summary>Binding a non-loopback address without authentication is refused unless this is set.</summary>
    public bool AllowUnauthenticatedRemote { get; init; }

    /// <summary>Server-owned state (assets, outputs, the SQLite job store). Created if missing.</summary>
    public string DataDir { get; init; } = DefaultDataDir;

    /// <summary>
    /// The job store: empty = SQLite, jobs.db in <see cref="DataDir"/>; otherwise a PostgreSQL database as a
    /// postgres:// URL or an Npgsql connection string (see docs/operations.md).
    /// </summary>
    public string? Database { get; init; }

    /// <summary>A ComfyUI-style models tree (checkpoints/, loras/, vae/ …). May be missing at start.</summary>
    public string ModelsDir { get; init; } = DefaultModelsDir;

    /// <summary>
    /// More extra_model_paths.yaml files (ComfyUI's --extra-model-paths-config), e.g. pointing at an A1111 or ComfyUI
    /// install; the models folder's own extra_model_paths.yaml is always read.
    /// </summary>
    public List<string> ExtraModelPaths { get; init; } = [];

    /// <summary>Saved workflows (ComfyUI API format).</summary>
    public string WorkflowsDir { get; init; } = DefaultWorkflowsDir;

    /// <summary>The built web page (web/dist after `npm run build` in web/), served at / on the HTTP port.</summary>
    public string WebRoot { get; init; } = DefaultWebRoot;

    /// <summary>After SIGTERM/Ctrl-C, how long in-flight calls may run before the process exits anyway.</summary>
    public int ShutdownTimeoutSeconds { get; init; } = DefaultShutdownTimeoutSeconds;

    /// <summary>
    /// The most memory one job may need at its peak, as estimated at validation from the workflow's shapes; a
    /// workflow over it is refused (memory_budget_exceeded). Null: three quarters of the memory the process may use.
    /// </summary>
    public long? MemoryBudgetBytes { get; init; }

    /// <summary>The back-off hint sent with "queue full" on both transports (HTTP Retry-After, gRPC RetryInfo).</summary>
    public int RetryAfterSeconds { get; init; } = DefaultRetryAfterSeconds;

    /// <summary>
    /// Model aliases by name: a checkpoint inside checkpoints/ plus LoRAs inside loras/, offered by the checkpoint
    /// loaders and listed by Models.List. Names must not end in .safetensors/.sft (so never collide with files).
    /// </summary>
    public Dictionary<string, CharacterGen.Nodes.ModelCaching.ModelAliasSettings> ModelAliases { get; init; } = new(StringComparer.Ordinal);

    public GrpcServerOptions Grpc { get; init; } = new();

    public AuthOptions Auth { get; init; } = new();

    public TlsOptions Tls { get; init; } = new();

    public AssetStoreOptions Assets { get; init; } = new();

    /// <summary>The ComfyUI-compatible HTTP/WebSocket API: upload limit, WebSocket queues, allowed hosts.</summary>
    public CharacterGen.Server.ComfyApi.ComfyApiOptions ComfyApi { get; init; } = new();

    /// <summary>Prometheus /metrics and OTLP export.</summary>
    public TelemetryOptions Telemetry { get; init; } = new();
    /// <summary>The character pipeline: model and render defaults, actor template, per-user models (docs/characters.md).</summary>
    public CharacterGen.Server.Characters.CharacterOptions Characters { get; init; } = new();

    /// <summary>Several nodes on one PostgreSQL queue: role and claim lease (docs/deploy.md).</summary>
    public ClusterOptions Cluster { get; init; } = new();

    /// <summary>Queue capacity, history, output cache, cost budget, workflow limits.</summary>
    public CharacterGen.GraphRuntime.Engine.EngineOptions Engine { get; init; } = new();

    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        CheckPort(errors, nameof(GrpcPort), GrpcPort);
        CheckPort(errors, nameof(HttpPort), HttpPort);
        if (GrpcPort != 0 && GrpcPort == HttpPort)
            errors.Add($"GrpcPort and HttpPort must differ (both are {GrpcPort}): cleartext HTTP/2 and HTTP/1.1 need separate ports.");
        if (!TryParseListenAddress(ListenAddress, out var address))
            errors.Add($"ListenAddress '{ListenAddress}' is not an IP address or 'localhost'.");
        else if (!IPAddress.IsLoopback(address) && !Auth.Enabled && !AllowUnauthenticatedRemote)
            errors.Add($"ListenAddress {ListenAddress} is reachable from the network but no authentication is configured. " +
                       "Set Auth:ApiKeys or Auth:BearerTokens, or AllowUnauthenticatedRemote=true if a proxy authenticates.");
        foreach (var (name, value) in new[] { (nameof(DataDir), DataDir), (nameof(ModelsDir), ModelsDir), (nameof(WorkflowsDir), WorkflowsDir) })
            if (string.IsNullOrWhiteSpace(value)) errors.Add($"{name} must not be empty.");
        if (ShutdownTimeoutSeconds is < 0 or > 3600)
            errors.Add($"ShutdownTimeoutSeconds must be between 0 and 3600 (got {ShutdownTimeoutSeconds}).");
        try { OpenModelFolders(); }
        catch (Exception e) when (e is InvalidDataException or IOException or UnauthorizedAccessException) { errors.Add("ExtraModelPaths: " + e.Message); }
        if (MemoryBudgetBytes is <= 0)
            errors.Add($"MemoryBudgetBytes must be positive (got {MemoryBudgetBytes}).");
        if (RetryAfterSeconds is < 1 or > 3600)
            errors.Add($"RetryAfterSeconds must be between 1 and 3600 (got {RetryAfterSeconds}).");
        errors.AddRange(CharacterGen.Server.Storage.DatabaseOption.Validate(Database));
        errors.AddRange(Cluster.Validate(CharacterGen.Server.Storage.DatabaseOption.IsPostgres(Database)));
        errors.AddRange(CharacterGen.Nodes.ModelCaching.ModelAliases.Validate(ModelAliases));
        errors.AddRange(Grpc.Validate());
        errors.AddRange(Auth.Validate());
        errors.AddRange(Tls.Validate());
        errors.AddRange(Assets.Validate());
        errors.AddRange(ComfyApi.Validate());
        errors.AddRange(Telemetry.Validate());
        errors.AddRange(Characters.Validate());
        try { Engine.Validate(); }
        catch (ArgumentException e) { errors.Add("Engine: " + e.Message); }
        return errors;
    }

    /// <summary>The models tree with its extra folders.</summary>
    public CharacterGen.Nodes.Files.ModelFolders OpenModelFolders() =>
        new(ModelsDir, ExtraModelPaths, [CharacterGen.Server.Characters.CharacterLoras.Folder(DataDir)]);

    public static bool TryParseListenAddress(string? text, out IPAddress address)
    {
        if (string.Equals(text, "localhost", StringComparison.OrdinalIgnoreCase))
        {
            address = IPAddress.Loopback;
            return true;
        }
        return IPAddress.TryParse(text, out address!);
    }

    private static void CheckPort(List<string> errors, string name, int port)
    {
        if (port is < 0 or > 65535) errors.Add($"{name} must be between 0 and 65535 (got {port}).");
    }
}
