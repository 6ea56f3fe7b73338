using CharacterGen.Server.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace CharacterGen.Server.Tests.Grpc.Support;

/// <summary>
/// The real server (Kestrel, both listeners on free ports) in-process, with the test-only Echo service
/// and its own temp data folder. Built exactly as `charactergen serve` builds it.
/// </summary>
public sealed class TestServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private TestServer(WebApplication app, ServerOptions options, CapturingLoggerProvider logs)
    {
        _app = app;
        Options = options;
        Logs = logs;
    }

    public ServerOptions Options { get; }

    public CapturingLoggerProvider Logs { get; }

    public IServiceProvider Services => _app.Services;

    public EchoProbe Probe => Services.GetRequiredService<EchoProbe>();

    public Uri GrpcAddress => Services.GetRequiredService<ServerEndpoints>().GrpcAddress;

    public Uri HttpAddress => Services.GetRequiredService<ServerEndpoints>().HttpAddress;

    public static async Task<TestServer> StartAsync(Func<ServerOptions, ServerOptions>? configure = null)
    {
        var dataDir = Path.Combine(Path.GetTempPath(), "cg-server-tests", Guid.NewGuid().ToString("N"));
        var options = new ServerOptions
        {
            GrpcPort = 0,
            HttpPort = 0,
            DataDir = dataDir,
            ModelsDir = Path.Combine(dataDir, "models"), // present, so "ready" is SERVING
            ShutdownTimeoutSeconds = 10,
        };
        options = configure?.Invoke(options) ?? options;
        Directory.CreateDirectory(options.ModelsDir);
        var errors = options.Validate();
        if (errors.Count > 0) throw new ArgumentException(string.Join("; ", errors));

        var logs = new CapturingLoggerProvider();
        var app = CharacterGenHost.Build(options, builder =>
        {
            builder.Logging.ClearProviders();
            builder.Logging.AddProvider(logs);
            builder.Logging.SetMinimumLevel(LogLevel.Debug);
            builder.Services.AddSingleton<EchoProbe>();
            builder.Services.AddGrpcService<EchoService>();
        });
        await app.StartAsync();
        return new TestServer(app, options, logs);
    }

    public GrpcTestClient CreateClient() => new(GrpcAddress);

    /// <summary>Begins graceful shutdown (what SIGTERM does) and returns when it has finished.</summary>
    public Task StopAsync() => _app.StopAsync();

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        if (Directory.Exists(Options.DataDir)) Directory.Delete(Options.DataDir, recursive: true);
    }
}
