using CharacterGen.Nodes.Files;
using CharacterGen.Nodes.ModelCaching;
using CharacterGen.Server.Grpc.Health;
using CharacterGen.Server.Hosting;
using CharacterGen.Server.Tests.Grpc.Support;
using CharacterGen.Tensors;
using Grpc.Health.V1;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using ServingStatus = Grpc.Health.V1.HealthCheckResponse.Types.ServingStatus;
using Domain = CharacterGen.Server.Grpc.Health.ServingStatus;

namespace CharacterGen.Server.Tests.Grpc;

/// <summary>
/// "ready" also reflects the model store and the device (issue #19 item 1): NOT_SERVING with the reason in the log
/// while the models folder is gone or the device does not answer, SERVING again when it recovers; "live" and ""
/// are not touched, and the queue's condition is kept apart from theirs.
/// </summary>
public sealed class ReadinessTests
{
    private const string Check = "/grpc.health.v1.Health/Check";
    private static readonly TimeSpan Hang = TimeSpan.FromSeconds(20); // only reached when the code under test is broken

    private static async Task<ServingStatus> StatusAsync(GrpcTestClient client, string service) =>
        (await client.UnaryAsync(Check, new HealthCheckRequest { Service = service })).Single(HealthCheckResponse.Parser).Status;

    [Test]
    public async Task A_removed_models_folder_turns_ready_not_serving_with_the_reason_logged_and_restoring_it_recovers()
    {
        await using var server = await TestServer.StartAsync();
        using var client = server.CreateClient();
        var readiness = server.Services.GetRequiredService<ResourceReadiness>();
        readiness.Refresh();
        Assert.That(await StatusAsync(client, "ready"), Is.EqualTo(ServingStatus.Serving));

        Directory.Delete(server.Options.ModelsDir);
        readiness.Refresh();

        Assert.That(await StatusAsync(client, "ready"), Is.EqualTo(ServingStatus.NotServing));
        Assert.That(await StatusAsync(client, "live"), Is.EqualTo(ServingStatus.Serving), "the process is fine: no restart");
        Assert.That(await StatusAsync(client, ""), Is.EqualTo(ServingStatus.Serving));
        var warning = server.Logs.Entries.Single(e => e.Level == LogLevel.Warning && e.Message.StartsWith("Not ready", StringComparison.Ordinal));
        Assert.That(warning.Message, Does.Contain(Path.GetFullPath(server.Options.ModelsDir)).And.Contain("does not exist"));

        Directory.CreateDirectory(server.Options.ModelsDir);
        readiness.Refresh();

        Assert.That(await StatusAsync(client, "ready"), Is.EqualTo(ServingStatus.Serving));
        Assert.That(server.Logs.Entries.Count(e => e.Level == LogLevel.Information && e.Message.Contains("Ready again: the models check")), Is.EqualTo(1));
    }

    [Test]
    public async Task The_periodic_check_notices_the_folder_going_and_coming_back()
    {
        var root = Directory.CreateTempSubdirectory("cg-ready-").FullName;
        var modelsDir = Path.Combine(root, "models");
        Directory.CreateDirectory(modelsDir);
        var health = new HealthState();
        var logs = new CapturingLoggerProvider();
        using var loggers = LoggerFactory.Create(b => b.AddProvider(logs));
        using var readiness = new ResourceReadiness(new ModelFolders(modelsDir), new ModelCache(), new ReadyConditions(health),
            loggers.CreateLogger<ResourceReadiness>()) { PollInterval = TimeSpan.FromMilliseconds(50) };
        await readiness.StartAsync(CancellationToken.None);
        try
        {
            using var stop = new CancellationTokenSource(Hang);
            await using var watch = health.WatchAsync(HealthState.Ready, stop.Token).GetAsyncEnumerator(stop.Token);
            async Task NextAsync(Domain expected)
            {
                do Assert.That(await watch.MoveNextAsync(), Is.True); while (watch.Current != expected);
            }
            await NextAsync(Domain.Serving);

            Directory.Delete(modelsDir);
            await NextAsync(Domain.NotServing);
            Directory.CreateDirectory(modelsDir);
            await NextAsync(Domain.Serving);

            Assert.That(logs.Entries.Select(e => e.Level), Is.EqualTo(new[] { LogLevel.Warning, LogLevel.Information }));
        }
        finally
        {
            await readiness.StopAsync(CancellationToken.None);
            Directory.Delete(root, recursive: true);
        }
    }

    [Test]
    public void A_device_that_does_not_answer_keeps_ready_not_serving()
    {
        var root = Directory.CreateTempSubdirectory("cg-ready-").FullName;
        try
        {
            var health = new HealthState();
            var logs = new CapturingLoggerProvider();
            using var loggers = LoggerFactory.Create(b => b.AddProvider(logs));
            // On a CPU-only libtorch cuda:0 cannot answer; on a GPU machine cuda:63 does not exist.
            var device = Cuda.IsAvailable ? Device.Cuda(63) : Device.Cuda();
            using var readiness = new ResourceReadiness(new ModelFolders(root), new ModelCache(new ModelCacheOptions { Device = device }),
                new ReadyConditions(health), loggers.CreateLogger<ResourceReadiness>());

            readiness.Refresh();

            Assert.That(health.TryGetStatus(HealthState.Ready, out var ready) ? ready : default, Is.EqualTo(Domain.NotServing));
            Assert.That(logs.Entries.Single().Message, Does.Contain($"device {device}"));
            Assert.That(ResourceReadiness.DeviceProblem(Device.Cpu), Is.Null);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [Test]
    public void One_condition_recovering_does_not_hide_another()
    {
        var health = new HealthState();
        var ready = new ReadyConditions(health);
        Domain Ready() => health.TryGetStatus(HealthState.Ready, out var s) ? s : default;

        Assert.That(ready.Report("queue", "the job queue is full"), Is.True);
        Assert.That(ready.Report("models", "the models folder is gone"), Is.True);
        Assert.That(ready.Report("queue", null), Is.True);
        Assert.That(Ready(), Is.EqualTo(Domain.NotServing), "the models are still gone");
        Assert.That(ready.Problems().Keys, Is.EqualTo(new[] { "models" }));

        Assert.That(ready.Report("models", "the models folder is gone"), Is.False, "no change, nothing to log");
        Assert.That(ready.Report("models", null), Is.True);
        Assert.That(Ready(), Is.EqualTo(Domain.Serving));

        health.EnterShutdown();
        ready.Report("queue", null);
        Assert.That(Ready(), Is.EqualTo(Domain.NotServing), "shutting down is final");
    }
}
