using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using CharacterGen.Diffusion.RandomWeights;
using CharacterGen.Nodes.ModelCaching;
using CharacterGen.Tests.Shared;

namespace CharacterGen.Server.Tests.Bounds;

/// <summary>
/// Issue #10, failure 2, end to end: `charactergen serve` with a 3072² step running gets SIGTERM and exits, cleanly and
/// within its shutdown timeout (it ran on for minutes before).
/// </summary>
public sealed class SigtermProcessTests
{
    private const int ShutdownTimeoutSeconds = 10;

    [Test]
    public async Task Sigterm_during_a_long_step_exits_cleanly_within_the_shutdown_timeout()
    {
        var root = Path.Combine(Path.GetTempPath(), "cg-sigterm-" + Guid.NewGuid().ToString("N"));
        var models = Path.Combine(root, "models");
        TinyModelWriter.WriteSd15(Path.Combine(models, "checkpoints", Sd15Jobs.Checkpoint), seed: 5);
        using var server = ServeProcess.Start(Path.Combine(root, "data"), models,
            ["--shutdown-timeout", ShutdownTimeoutSeconds.ToString(), "--memory-budget", (64L << 30).ToString()]);
        try
        {
            using var http = new HttpClient { BaseAddress = server.HttpAddress, Timeout = TimeSpan.FromSeconds(10) };
            using (var started = new CancellationTokenSource(TimeSpan.FromSeconds(60))) await server.WaitReadyAsync(http, started.Token);

            var body = new JsonObject { ["prompt"] = Sd15Jobs.Txt2Img(3072, 3072) }.ToJsonString();
            using (var response = await http.PostAsync("/prompt", new StringContent(body, Encoding.UTF8, "application/json")))
                Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK), await response.Content.ReadAsStringAsync());
            await WaitUntilAsync(async () => (await TryGet(http, "/queue"))?["queue_running"]?.AsArray().Count > 0, TimeSpan.FromSeconds(30), "job start", server);
            await Task.Delay(TimeSpan.FromSeconds(4)); // past loading and text encoding, into the sampler's first step

            var clock = Stopwatch.StartNew();
            server.Terminate();
            using var bound = new CancellationTokenSource(TimeSpan.FromSeconds(ShutdownTimeoutSeconds + 20));
            try { await server.WaitForExitAsync(bound.Token); }
            catch (OperationCanceledException) { Assert.Fail($"still running {clock.Elapsed} after SIGTERM\n{server.Output}"); }
            clock.Stop();

            TestContext.Out.WriteLine($"exited {clock.Elapsed.TotalSeconds:0.00} s after SIGTERM");
            Assert.That(clock.Elapsed, Is.LessThan(TimeSpan.FromSeconds(ShutdownTimeoutSeconds)), server.Output);
            Assert.That(server.ExitCode, Is.EqualTo(0), "a graceful exit, not the forced one\n" + server.Output);
        }
        finally
        {
            server.KillHard();
            Directory.Delete(root, recursive: true);
        }
    }

    private static async Task<JsonNode?> TryGet(HttpClient http, string path)
    {
        try { return JsonNode.Parse(await http.GetStringAsync(path)); }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException) { return null; }
    }

    private static async Task WaitUntilAsync(Func<Task<bool>> condition, TimeSpan timeout, string what, ServeProcess server)
    {
        var clock = Stopwatch.StartNew();
        while (!await condition())
        {
            if (clock.Elapsed > timeout) Assert.Fail($"timed out waiting for {what}\n{server.Output}");
            await Task.Delay(200);
        }
    }
}
