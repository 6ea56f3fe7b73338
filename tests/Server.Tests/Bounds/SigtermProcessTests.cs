using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;
using CharacterGen.Diffusion.RandomWeights;
using CharacterGen.Nodes.ModelCaching;

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
        int port = FreePort();
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { ServerDll(), "serve", "--http-port", port.ToString(), "--grpc-port", "0", "--data", Path.Combine(root, "data"),
                     "--models", models, "--shutdown-timeout", ShutdownTimeoutSeconds.ToString(), "--memory-budget", (64L << 30).ToString() })
            start.ArgumentList.Add(a);
        var log = new StringBuilder();
        using var server = new Process { StartInfo = start };
        server.OutputDataReceived += (_, e) => { lock (log) log.AppendLine(e.Data); };
        server.ErrorDataReceived += (_, e) => { lock (log) log.AppendLine(e.Data); };
        server.Start();
        server.BeginOutputReadLine();
        server.BeginErrorReadLine();
        try
        {
            using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(10) };
            await WaitUntilAsync(async () => (await TryGet(http, "/queue")) is not null, TimeSpan.FromSeconds(60), "server start", log);

            var body = new JsonObject { ["prompt"] = Sd15Jobs.Txt2Img(3072, 3072) }.ToJsonString();
            using (var response = await http.PostAsync("/prompt", new StringContent(body, Encoding.UTF8, "application/json")))
                Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK), await response.Content.ReadAsStringAsync());
            await WaitUntilAsync(async () => (await TryGet(http, "/queue"))?["queue_running"]?.AsArray().Count > 0, TimeSpan.FromSeconds(30), "job start", log);
            await Task.Delay(TimeSpan.FromSeconds(4)); // past loading and text encoding, into the sampler's first step

            var clock = Stopwatch.StartNew();
            Process.Start("kill", ["-TERM", server.Id.ToString()])!.WaitForExit();
            using var bound = new CancellationTokenSource(TimeSpan.FromSeconds(ShutdownTimeoutSeconds + 20));
            try { await server.WaitForExitAsync(bound.Token); }
            catch (OperationCanceledException) { Assert.Fail($"still running {clock.Elapsed} after SIGTERM\n{log}"); }
            clock.Stop();

            TestContext.Out.WriteLine($"exited {clock.Elapsed.TotalSeconds:0.00} s after SIGTERM");
            Assert.That(clock.Elapsed, Is.LessThan(TimeSpan.FromSeconds(ShutdownTimeoutSeconds)), log.ToString());
            Assert.That(server.ExitCode, Is.EqualTo(0), "a graceful exit, not the forced one\n" + log);
        }
        finally
        {
            if (!server.HasExited) server.Kill(entireProcessTree: true);
            Directory.Delete(root, recursive: true);
        }
    }

    private static string ServerDll()
    {
        // The tests run from artifacts/bin/CharacterGen.Server.Tests/<config>/; the server is built beside them.
        var config = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar)).Name;
        var dll = Path.Combine(Sd15Jobs.RepositoryRoot(), "artifacts", "bin", "CharacterGen.Server", config, "charactergen.dll");
        Assert.That(File.Exists(dll), Is.True, $"{dll} is built with the tests");
        return dll;
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static async Task<JsonNode?> TryGet(HttpClient http, string path)
    {
        try { return JsonNode.Parse(await http.GetStringAsync(path)); }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException) { return null; }
    }

    private static async Task WaitUntilAsync(Func<Task<bool>> condition, TimeSpan timeout, string what, StringBuilder log)
    {
        var clock = Stopwatch.StartNew();
        while (!await condition())
        {
            if (clock.Elapsed > timeout) Assert.Fail($"timed out waiting for {what}\n{log}");
            await Task.Delay(200);
        }
    }
}
