using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using CharacterGen.GraphRuntime.Engine;
using CharacterGen.GraphRuntime.Contracts;
using CharacterGen.Nodes.Files;
using CharacterGen.Server.Hosting;
using CharacterGen.Server.Tests.Grpc.Support;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace CharacterGen.Server.Tests.ComfyApi.Support;

/// <summary>
/// The real server (Kestrel on free ports, built by <see cref="CharacterGenHost"/> as `serve` builds it) with the
/// ComfyUI test nodes instead of the built-in catalogue, its own temp data folder, and an HTTP client for its port.
/// </summary>
public sealed class ComfyServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private ComfyServer(WebApplication app, ServerOptions options, ComfyTestNodes nodes, CapturingLoggerProvider logs)
    {
        _app = app;
        Options = options;
        Nodes = nodes;
        Logs = logs;
        Http = new HttpClient { BaseAddress = HttpAddress, Timeout = TimeSpan.FromSeconds(30) };
    }

    public ServerOptions Options { get; }
    public ComfyTestNodes Nodes { get; }
    public CapturingLoggerProvider Logs { get; }
    public HttpClient Http { get; }
    public IServiceProvider Services => _app.Services;
    public WorkflowEngine Engine => Services.GetRequiredService<WorkflowEngine>();
    public DataFolders Folders => Services.GetRequiredService<DataFolders>();
    public Uri HttpAddress => Services.GetRequiredService<ServerEndpoints>().HttpAddress;
    public Uri GrpcAddress => Services.GetRequiredService<ServerEndpoints>().GrpcAddress;
    public Uri WebSocketAddress(string path = "/ws", string? query = null) =>
        new UriBuilder(HttpAddress) { Scheme = "ws", Path = path, Query = query ?? "" }.Uri;

    /// <param name="builtinNodes">Serve the production node catalogue (SD1.5 nodes) instead of the test nodes.</param>
    public static async Task<ComfyServer> StartAsync(Func<ServerOptions, ServerOptions>? configure = null, bool builtinNodes = false)
    {
        var options = new ServerOptions
        {
            GrpcPort = 0,
            HttpPort = 0,
            DataDir = Path.Combine(Path.GetTempPath(), "cg-comfy-tests", Guid.NewGuid().ToString("N")),
            ModelsDir = Path.Combine(Path.GetTempPath(), "cg-comfy-tests", Guid.NewGuid().ToString("N"), "models"),
            ShutdownTimeoutSeconds = 5,
        };
        options = configure?.Invoke(options) ?? options;
        Directory.CreateDirectory(options.ModelsDir); // present, so "ready" is SERVING
        var errors = options.Validate();
        if (errors.Count > 0) throw new ArgumentException(string.Join("; ", errors));

        var nodes = new ComfyTestNodes();
        var logs = new CapturingLoggerProvider();
        var app = CharacterGenHost.Build(options, builder =>
        {
            builder.Logging.ClearProviders();
            builder.Logging.AddProvider(logs);
            builder.Logging.SetMinimumLevel(LogLevel.Debug);
            if (!builtinNodes) builder.Services.AddSingleton<NodeCatalog>(nodes.Catalog); // before the engine's TryAdd of the built-ins
        });
        await app.StartAsync();
        return new ComfyServer(app, options, nodes, logs);
    }

    public async Task<ComfySocket> ConnectAsync(string? clientId = null, bool previewMetadata = false)
    {
        var socket = await ComfySocket.ConnectAsync(WebSocketAddress(query: clientId is null ? null : "clientId=" + Uri.EscapeDataString(clientId)));
        if (previewMetadata)
        {
            await socket.SendTextAsync("""{"type":"feature_flags","data":{"supports_preview_metadata":true}}""");
        }
        return socket;
    }

    /// <summary>POST /prompt; returns the status code and the JSON body.</summary>
    public async Task<(int Status, JsonObject Body)> PostPromptAsync(JsonObject body, string path = "/prompt")
    {
        using var response = await Http.PostAsync(path, new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json"));
        return ((int)response.StatusCode, (JsonObject)JsonNode.Parse(await response.Content.ReadAsStringAsync())!);
    }

    /// <summary>POST /prompt that must be accepted; returns the prompt id.</summary>
    public async Task<string> QueueAsync(JsonObject prompt, string? clientId = null, Action<JsonObject>? extra = null)
    {
        var body = new JsonObject { ["prompt"] = prompt };
        if (clientId is not null) body["client_id"] = clientId;
        extra?.Invoke(body);
        var (status, result) = await PostPromptAsync(body);
        Assert.That(status, Is.EqualTo(200), result.ToJsonString());
        return result["prompt_id"]!.GetValue<string>();
    }

    public async Task<JsonNode> GetJsonAsync(string path)
    {
        using var response = await Http.GetAsync(path);
        var text = await response.Content.ReadAsStringAsync();
        Assert.That((int)response.StatusCode, Is.EqualTo(200), $"GET {path}: {text}");
        return JsonNode.Parse(text)!;
    }

    public Task<HttpResponseMessage> PostJsonAsync(string path, object body) => Http.PostAsJsonAsync(path, body);

    /// <summary>Stops the host as SIGTERM would (the shutdown timeout applies); dispose afterwards.</summary>
    public Task StopAsync() => _app.StopAsync();

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        Nodes.Gate.Set(); // let any blocked node finish so shutdown is quick
        await _app.StopAsync();
        await _app.DisposeAsync();
        Nodes.Dispose();
        foreach (var dir in new[] { Options.DataDir, Path.GetDirectoryName(Options.ModelsDir)! })
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
    }
}
