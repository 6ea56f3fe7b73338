using CharacterGen.GraphRuntime.Engine;
using CharacterGen.GraphRuntime.Execution;
using CharacterGen.Server.Hosting;
using CharacterGen.Server.Tests.Grpc.Support;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace CharacterGen.Server.Tests.WorkflowsApi.Support;

/// <summary>
/// The real server in-process (Kestrel on free ports, built by <see cref="CharacterGenHost.Build"/> as `serve`
/// builds it) with the <see cref="TestNodes"/> catalogue registered through the configure callback, the
/// test-only Echo service (for the real-client scripts), and its own temp data, models and workflows folders.
/// </summary>
public sealed class WorkflowServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly string _root;

    private WorkflowServer(WebApplication app, ServerOptions options, string root, NodeGates gates, LogWatch logs)
    {
        _app = app;
        _root = root;
        Options = options;
        Gates = gates;
        Logs = logs;
        Client = new GrpcTestClient(GrpcAddress);
    }

    public ServerOptions Options { get; }
    public NodeGates Gates { get; }
    public LogWatch Logs { get; }
    public GrpcTestClient Client { get; }
    public IServiceProvider Services => _app.Services;
    public WorkflowEngine Engine => Services.GetRequiredService<WorkflowEngine>();
    public EchoProbe Probe => Services.GetRequiredService<EchoProbe>();
    public Uri GrpcAddress => Services.GetRequiredService<ServerEndpoints>().GrpcAddress;
    public Uri HttpAddress => Services.GetRequiredService<ServerEndpoints>().HttpAddress;
    public string OutputDir => Path.Combine(Options.DataDir, "output");

    /// <param name="engine">Engine options; default: no output cache, so every run executes every node.</param>
    public static async Task<WorkflowServer> StartAsync(EngineOptions? engine = null, Func<ServerOptions, ServerOptions>? configure = null)
    {
        var root = Path.Combine(Path.GetTempPath(), "cg-workflows-tests", Guid.NewGuid().ToString("N"));
        var options = new ServerOptions
        {
            GrpcPort = 0,
            HttpPort = 0,
            DataDir = Path.Combine(root, "data"),
            ModelsDir = Path.Combine(root, "models"),
            WorkflowsDir = Path.Combine(root, "workflows"),
            ShutdownTimeoutSeconds = 10,
            Engine = engine ?? new EngineOptions { CacheSize = 0 },
        };
        options = configure?.Invoke(options) ?? options;
        Directory.CreateDirectory(options.WorkflowsDir);
        Directory.CreateDirectory(options.ModelsDir);
        var errors = options.Validate();
        if (errors.Count > 0) throw new ArgumentException(string.Join("; ", errors));

        var gates = new NodeGates();
        var logs = new LogWatch();
        var app = CharacterGenHost.Build(options, builder =>
        {
            builder.Logging.ClearProviders();
            builder.Logging.AddProvider(logs);
            builder.Logging.SetMinimumLevel(LogLevel.Debug);
            builder.Services.AddSingleton(TestNodes.Catalog(gates)); // before the engine's TryAdd of the built-ins
            builder.Services.AddSingleton<EchoProbe>();
            builder.Services.AddGrpcService<EchoService>();
        });
        await app.StartAsync();
        return new WorkflowServer(app, options, root, gates, logs);
    }

    /// <summary>Opens every gate and cancels every unfinished job, so one test's leftovers never block the next.</summary>
    public async Task ResetAsync()
    {
        var unfinished = Engine.ListJobs().Where(j => !j.IsFinished).Select(j => j.Id).ToList();
        foreach (var id in unfinished) Engine.Cancel(id);
        Gates.ReleaseAll();
        foreach (var id in unfinished)
        {
            try { await Engine.WaitAsync(id).WaitAsync(TimeSpan.FromSeconds(20)); }
            catch (KeyNotFoundException) { }
        }
    }

    /// <summary>Waits for a job to finish and returns its final state.</summary>
    public async Task<JobStatus> FinishedAsync(string jobId) =>
        (await Engine.WaitAsync(jobId).WaitAsync(TimeSpan.FromSeconds(20))).Status;

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        Gates.ReleaseAll();
        await _app.StopAsync();
        await _app.DisposeAsync();
        if (Directory.Exists(_root)) Directory.Delete(_root, recursive: true);
    }
}
