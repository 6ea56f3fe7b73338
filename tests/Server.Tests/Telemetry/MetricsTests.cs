using System.Net;
using CharacterGen.Server.Hosting;
using CharacterGen.Server.Tests.ComfyApi.Support;

namespace CharacterGen.Server.Tests.Telemetry;

/// <summary>GET /metrics: the engine's metrics after real jobs, off by default, behind auth when auth is on.</summary>
public sealed class MetricsTests
{
    private const string Key = "metrics-test-key-0123456789";

    private static Task<ComfyServer> StartWithMetrics(Func<ServerOptions, ServerOptions>? more = null) =>
        ComfyServer.StartAsync(o =>
        {
            o = o with { Telemetry = new TelemetryOptions { Metrics = true } };
            return more?.Invoke(o) ?? o;
        });

    private static async Task<PrometheusText> ScrapeAsync(ComfyServer server)
    {
        using var response = await server.Http.GetAsync(TelemetryOptions.MetricsPath);
        var text = await response.Content.ReadAsStringAsync();
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK), text);
        Assert.That(response.Content.Headers.ContentType?.MediaType, Is.EqualTo("text/plain"));
        return new PrometheusText(text);
    }

    [Test]
    public async Task Jobs_nodes_steps_and_the_output_cache_are_counted_with_their_labels()
    {
        await using var server = await StartWithMetrics();
        await server.Engine.WaitAsync(await server.QueueAsync(TestWorkflows.SaveChain(steps: 4)));
        await server.Engine.WaitAsync(await server.QueueAsync(TestWorkflows.SaveChain(steps: 4))); // all three nodes cached
        await server.Engine.WaitAsync(await server.QueueAsync(TestWorkflows.Failing()));

        var metrics = await ScrapeAsync(server);
        Assert.Multiple(() =>
        {
            Assert.That(metrics.Value("charactergen_jobs_total", "outcome=succeeded"), Is.EqualTo(2));
            Assert.That(metrics.Value("charactergen_jobs_total", "outcome=failed"), Is.EqualTo(1));
            Assert.That(metrics.Contains("charactergen_jobs_total", "outcome=cancelled"), Is.False);
            Assert.That(metrics.Value("charactergen_job_duration_seconds_count", "outcome=succeeded"), Is.EqualTo(2));
            Assert.That(metrics.Value("charactergen_job_queue_time_seconds_count"), Is.EqualTo(3));
            Assert.That(metrics.Value("charactergen_queue_depth"), Is.EqualTo(0));
            // Executed nodes only: SaveChain ran once (Const 7, Steps, TestSaveImage), then was all cached; Failing ran Const 1 and Throw.
            Assert.That(metrics.Value("charactergen_node_duration_seconds_count", "class_type=Steps"), Is.EqualTo(1));
            Assert.That(metrics.Value("charactergen_node_duration_seconds_count", "class_type=TestSaveImage"), Is.EqualTo(1));
            Assert.That(metrics.Value("charactergen_node_duration_seconds_count", "class_type=Const"), Is.EqualTo(2));
            Assert.That(metrics.Value("charactergen_node_duration_seconds_count", "class_type=Throw"), Is.EqualTo(1));
            Assert.That(metrics.Value("charactergen_node_step_duration_seconds_count", "class_type=Steps"), Is.EqualTo(4));
            Assert.That(metrics.Value("charactergen_node_duration_seconds_bucket", "class_type=Steps", "le=+Inf"), Is.EqualTo(1));
            Assert.That(metrics.Value("charactergen_cache_lookups_total", "cache=outputs", "result=miss"), Is.EqualTo(5));
            Assert.That(metrics.Value("charactergen_cache_lookups_total", "cache=outputs", "result=hit"), Is.EqualTo(3));
            // ASP.NET Core's own request metrics come along.
            Assert.That(metrics.Contains("http_server_request_duration_seconds_count", "http_route=/prompt", "http_request_method=POST"), Is.True,
                metrics.Text);
        });
    }

    [Test]
    public async Task Queue_depth_counts_the_jobs_waiting_and_a_pending_cancel_counts_as_cancelled()
    {
        await using var server = await StartWithMetrics();
        var running = await server.QueueAsync(TestWorkflows.Blocking(tag: 1));
        await server.Nodes.Entered.WaitAsync(); // the first job is inside its Blocker
        var waiting = await server.QueueAsync(TestWorkflows.Blocking(tag: 2));
        var doomed = await server.QueueAsync(TestWorkflows.Blocking(tag: 3));

        var metrics = await ScrapeAsync(server);
        Assert.That(metrics.Value("charactergen_queue_depth"), Is.EqualTo(2));

        Assert.That(server.Engine.Cancel(doomed), Is.True);
        server.Nodes.Gate.Set();
        await server.Engine.WaitAsync(running);
        await server.Engine.WaitAsync(waiting);
        metrics = await ScrapeAsync(server);
        Assert.Multiple(() =>
        {
            Assert.That(metrics.Value("charactergen_queue_depth"), Is.EqualTo(0));
            Assert.That(metrics.Value("charactergen_jobs_total", "outcome=succeeded"), Is.EqualTo(2));
            Assert.That(metrics.Value("charactergen_jobs_total", "outcome=cancelled"), Is.EqualTo(1));
            Assert.That(metrics.Value("charactergen_job_queue_time_seconds_count"), Is.EqualTo(2), "the cancelled job never left the queue");
        });
    }

    [Test]
    public async Task Metrics_are_not_served_unless_enabled()
    {
        await using var server = await ComfyServer.StartAsync();
        using var response = await server.Http.GetAsync(TelemetryOptions.MetricsPath);
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
    }

    [Test]
    public async Task Metrics_need_a_credential_when_auth_is_on()
    {
        await using var server = await StartWithMetrics(o => o with { Auth = new() { ApiKeys = [Key] } });
        using (var anonymous = await server.Http.GetAsync(TelemetryOptions.MetricsPath))
        {
            Assert.That(anonymous.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
            Assert.That(await anonymous.Content.ReadAsStringAsync(), Does.Not.Contain("charactergen_"));
        }

        using var request = new HttpRequestMessage(HttpMethod.Get, TelemetryOptions.MetricsPath) { Headers = { { "x-api-key", Key } } };
        using var response = await server.Http.SendAsync(request);
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(await response.Content.ReadAsStringAsync(), Does.Contain("charactergen_queue_depth"));
    }
}
