namespace CharacterGen.Server.Hosting;

/// <summary>
/// Metrics and traces (see docs/operations.md, "Metrics and traces"): a Prometheus scrape endpoint on the HTTP port,
/// and OTLP export of metrics and traces to a collector.
/// </summary>
public sealed record TelemetryOptions
{
    /// <summary>The Prometheus scrape path on the HTTP port (behind authentication when it is on).</summary>
    public const string MetricsPath = "/metrics";

    /// <summary>OpenTelemetry's standard variable; when set, OTLP export is on even without <see cref="OtlpEndpoint"/>.</summary>
    public const string OtlpEndpointVariable = "OTEL_EXPORTER_OTLP_ENDPOINT";

    /// <summary>Serve <see cref="MetricsPath"/>. Off by default.</summary>
    public bool Metrics { get; init; }

    /// <summary>
    /// An OTLP collector (e.g. http://localhost:4317 for gRPC) to send metrics and traces to; the other OTEL_EXPORTER_OTLP_*
    /// variables (protocol, headers) apply. Null: <see cref="OtlpEndpointVariable"/> if set, otherwise no export.
    /// </summary>
    public string? OtlpEndpoint { get; init; }

    public bool OtlpEnabled => !string.IsNullOrWhiteSpace(OtlpEndpoint)
        || !string.IsNullOrWhiteSpace(Environment.GetEnvironmentVariable(OtlpEndpointVariable));

    public IReadOnlyList<string> Validate()
    {
        if (OtlpEndpoint is null) return [];
        return Uri.TryCreate(OtlpEndpoint, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https"
            ? []
            : [$"Telemetry:OtlpEndpoint '{OtlpEndpoint}' is not an http:// or https:// URL."];
    }
}
