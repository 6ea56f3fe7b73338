using System.Collections.Concurrent;
using System.Net;
using System.Text;
using CharacterGen.Server.Hosting;
using CharacterGen.Server.Tests.ComfyApi.Support;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace CharacterGen.Server.Tests.Telemetry;

/// <summary>OTLP export: a job's spans and the engine's metrics reach a collector (a fake one speaking http/protobuf).</summary>
public sealed class OtlpExportTests
{
    private static readonly TimeSpan Hang = TimeSpan.FromSeconds(60);

    private static readonly (string Name, string? Value)[] Settings =
    [
        ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"),
        ("OTEL_BSP_SCHEDULE_DELAY", "100"), // export spans within 100 ms instead of 5 s
        ("OTEL_METRIC_EXPORT_INTERVAL", "200"),
    ];

    [Test]
    public async Task A_jobs_spans_and_metrics_reach_the_collector_named_by_the_option()
    {
        await using var collector = await Collector.StartAsync();
        var previous = Settings.Select(s => (s.Name, Environment.GetEnvironmentVariable(s.Name))).ToArray();
        foreach (var (name, value) in Settings) Environment.SetEnvironmentVariable(name, value);
        try
        {
            await using var server = await ComfyServer.StartAsync(o => o with { Telemetry = new TelemetryOptions { OtlpEndpoint = collector.Address } });
            await server.Engine.WaitAsync(await server.QueueAsync(TestWorkflows.SaveChain()));

            var traces = await collector.WaitForAsync("/v1/traces", "node Steps").WaitAsync(Hang);
            var metrics = await collector.WaitForAsync("/v1/metrics", "charactergen.jobs").WaitAsync(Hang);
            Assert.Multiple(() =>
            {
                Assert.That(traces, Does.Contain("charactergen.job.id").And.Contain("node TestSaveImage"));
                Assert.That(metrics, Does.Contain("charactergen.node.duration").And.Contain("charactergen.queue.depth"));
                Assert.That(collector.ContentTypes, Has.All.EqualTo("application/x-protobuf"));
            });
            using var scrape = await server.Http.GetAsync(TelemetryOptions.MetricsPath);
            Assert.That(scrape.StatusCode, Is.EqualTo(HttpStatusCode.NotFound), "OTLP alone does not serve /metrics");
        }
        finally
        {
            foreach (var (name, value) in previous) Environment.SetEnvironmentVariable(name, value);
        }
    }

    /// <summary>Accepts OTLP/HTTP posts and keeps each body as Latin-1 text: names and string attributes show in protobuf.</summary>
    private sealed class Collector : IAsyncDisposable
    {
        private readonly WebApplication _app;
        private readonly ConcurrentQueue<(string Path, string Body)> _posts = new();
        private readonly SemaphoreSlim _arrived = new(0);

        private Collector(WebApplication app) => _app = app;

        public string Address => _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        public ConcurrentQueue<string> ContentTypes { get; } = new();

        public static async Task<Collector> StartAsync()
        {
            var builder = WebApplication.CreateBuilder();
            builder.WebHost.UseUrls("http://127.0.0.1:0");
            var app = builder.Build();
            var collector = new Collector(app);
            app.MapPost("/{**path}", async (HttpRequest request) =>
            {
                using var body = new MemoryStream();
                await request.Body.CopyToAsync(body);
                collector.ContentTypes.Enqueue(request.ContentType ?? "");
                collector._posts.Enqueue((request.Path.Value!, Encoding.Latin1.GetString(body.ToArray())));
                collector._arrived.Release();
                return Results.Ok();
            });
            await app.StartAsync();
            return collector;
        }

        /// <summary>The first body posted to <paramref name="path"/> that contains <paramref name="text"/>.</summary>
        public async Task<string> WaitForAsync(string path, string text)
        {
            while (true)
            {
                foreach (var (p, body) in _posts)
                    if (p == path && body.Contains(text, StringComparison.Ordinal)) return body;
                await _arrived.WaitAsync();
            }
        }

        public async ValueTask DisposeAsync()
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
    }
}
