using CharacterGen.GraphRuntime.Observability;
using CharacterGen.Nodes.ModelCaching;
using CharacterGen.Server.ComfyApi;
using CharacterGen.Tensors;
using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace CharacterGen.Server.Hosting;

/// <summary>
/// The engine's <see cref="Telemetry"/> (always: instruments nobody listens to cost nothing) and, when asked for, the
/// OpenTelemetry SDK that exports it with ASP.NET Core's own metrics and spans (every HTTP request and gRPC call).
/// </summary>
public static class TelemetryServiceCollectionExtensions
{
    public static IServiceCollection AddCharacterGenTelemetry(this IServiceCollection services, TelemetryOptions options)
    {
        services.AddSingleton(_ =>
        {
            var telemetry = new Telemetry();
            telemetry.ObserveLiveTensors(() => Tensor.LiveCount);
            var device = ModelCacheOptions.FromEnvironment().Device;
            if (device.IsCuda) // never touch CUDA (or load libtorch) on a CPU server just to report nothing
                telemetry.ObserveDeviceMemory(() =>
                {
                    var (allocated, reserved) = Cuda.Memory(device.Index);
                    return [new DeviceMemory(device.ToString(), allocated, reserved)];
                });
            return telemetry;
        });
        if (!options.Metrics && !options.OtlpEnabled) return services;

        var version = typeof(TelemetryServiceCollectionExtensions).Assembly.GetName().Version?.ToString(3);
        var otel = services.AddOpenTelemetry().ConfigureResource(resource => resource.AddService("charactergen", serviceVersion: version));
        otel.WithMetrics(metrics =>
        {
            metrics.AddMeter(Telemetry.Name).AddAspNetCoreInstrumentation();
            // No response cache: a scrape right after a job shows that job (the exporter caches 300 ms by default).
            if (options.Metrics) metrics.AddPrometheusExporter(prometheus => prometheus.ScrapeResponseCacheDurationMilliseconds = 0);
            if (options.OtlpEnabled) metrics.AddOtlpExporter(otlp => Configure(otlp, options, "v1/metrics"));
        });
        if (options.OtlpEnabled) // traces have no scrape endpoint: only a collector receives them
            otel.WithTracing(tracing => tracing.AddSource(Telemetry.Name).AddAspNetCoreInstrumentation()
                .AddOtlpExporter(otlp => Configure(otlp, options, "v1/traces")));
        return services;
    }

    /// <summary><c>GET /metrics</c> (Prometheus text format) when enabled, behind the HTTP API's access checks (auth, host, origin).</summary>
    public static WebApplication MapMetrics(this WebApplication app)
    {
        if (app.Services.GetRequiredService<ServerOptions>().Telemetry.Metrics)
            app.MapPrometheusScrapingEndpoint(TelemetryOptions.MetricsPath).WithMetadata(new ComfyApiRoute());
        return app;
    }

    /// <summary>
    /// <see cref="TelemetryOptions.OtlpEndpoint"/> is the collector's base address, like OTEL_EXPORTER_OTLP_ENDPOINT: over
    /// http/protobuf each signal goes to its own path (an endpoint set in code is otherwise used as it is).
    /// </summary>
    private static void Configure(OtlpExporterOptions otlp, TelemetryOptions options, string signalPath)
    {
        if (string.IsNullOrWhiteSpace(options.OtlpEndpoint)) return;
        otlp.Endpoint = otlp.Protocol == OtlpExportProtocol.HttpProtobuf
            ? new Uri(options.OtlpEndpoint.TrimEnd('/') + "/" + signalPath)
            : new Uri(options.OtlpEndpoint);
    }
}
