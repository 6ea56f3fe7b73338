namespace CharacterGen.Server.Hosting;

/// <summary>
/// Builds the server from validated <see cref="ServerOptions"/>: two Kestrel listeners (gRPC and
/// HTTP/1.1), the gRPC transport with its services, the status page. `serve` and in-process tests
/// both go through here.
/// </summary>
public static class CharacterGenHost
{
    /// <param name="configure">Extra registrations (more gRPC services, test doubles, logging) before the app is built.</param>
    public static WebApplication Build(ServerOptions options, Action<WebApplicationBuilder>? configure = null)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = [] });
        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(console =>
        {
            console.SingleLine = true;
            console.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fff ";
        });
        // Kestrel and routing log several lines per request; our dispatcher logs the one that matters.
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);

        var endpoints = new ServerEndpoints();
        builder.WebHost.ConfigureKestrel(kestrel => endpoints.Configure(kestrel, options));
        builder.Services.Configure<HostOptions>(host => host.ShutdownTimeout = TimeSpan.FromSeconds(options.ShutdownTimeoutSeconds));

        builder.Services.AddSingleton(options);
        builder.Services.AddSingleton(endpoints);
        builder.Services.AddCharacterGenGrpc(options.Grpc, options.Auth);
        builder.Services.AddCharacterGenAssets(options.Assets, new CharacterGen.Nodes.Files.DataFolders(options.DataDir).Assets); // LoadImage reads "<id> [asset]" there
        builder.Services.AddCharacterGenWorkflowsApi(options);
        builder.Services.AddComfyApi(options.ComfyApi);
        builder.Services.AddCharacterGenTelemetry(options.Telemetry);
        builder.Services.AddCharacterGenCharacters(options);
        configure?.Invoke(builder);
        builder.Services.AddCharacterGenEngine(options);
        builder.Services.AddHostedService<ShutdownGuard>(); // last: stopped first, so jobs end before transports drain

        var staleFiles = StaleFileCleanup.Run(options.DataDir); // before anything listens or writes
        var app = builder.Build();
        app.Services.GetRequiredService<Assets.AssetStore>(); // now, not at the first asset call: it removes uploads a killed process left
        if (staleFiles > 0)
            app.Logger.LogInformation("Removed {Count} temporary files left by an earlier run", staleFiles);
        app.MapCharacterGenGrpc();
        app.MapStatusPage();
        app.MapComfyApi();
        app.MapMetrics();
        app.MapWebPage(options.WebRoot);
        return app;
    }

    /// <summary>Runs until SIGTERM/Ctrl-C (or <paramref name="cancellationToken"/>), then drains in-flight calls.</summary>
    public static async Task RunAsync(ServerOptions options, CancellationToken cancellationToken = default)
    {
        await using var app = Build(options, builder => builder.Services.AddSingleton(new ProcessExitPolicy()));
        await app.RunAsync(cancellationToken);
    }
}
