using CharacterGen.GraphRuntime.Engine;
using CharacterGen.GraphRuntime.Execution;
using CharacterGen.Protos.V1;
using CharacterGen.Server.Grpc;
using CharacterGen.Server.Tests.WorkflowsApi.Support;
using Google.Rpc;
using Grpc.Health.V1;
using ServingStatus = Grpc.Health.V1.HealthCheckResponse.Types.ServingStatus;

namespace CharacterGen.Server.Tests.WorkflowsApi;

/// <summary>A full queue: RESOURCE_EXHAUSTED with RetryInfo, and "ready" NOT_SERVING until there is room again.</summary>
public sealed class QueueLimitTests
{
    private static readonly TimeSpan Hang = TimeSpan.FromSeconds(20);

    [Test]
    public async Task A_full_queue_refuses_with_RetryInfo_and_flips_readiness_until_it_drains()
    {
        // The back-off is the server's RetryAfterSeconds, the same value HTTP sends as Retry-After.
        await using var server = await WorkflowServer.StartAsync(new EngineOptions { CacheSize = 0, QueueCapacity = 1 },
            options => options with { RetryAfterSeconds = 7 });
        var workflows = new WorkflowsClient(server.Client);
        var gate = "queue-full";
        var running = await workflows.SubmitAsync(TestWorkflows.Pipeline(1, gate: gate));
        await server.Gates.Entered(gate).WaitAsync(Hang);
        var pending = await workflows.SubmitAsync(TestWorkflows.Pipeline(2)); // the one pending slot

        var refused = await workflows.CallAsync("Submit", WorkflowsClient.Inline(TestWorkflows.Pipeline(3)));
        var readyWhileFull = await server.Client.UnaryAsync("/grpc.health.v1.Health/Check", new HealthCheckRequest { Service = "ready" });

        Assert.That(refused.Status, Is.EqualTo(StatusCode.ResourceExhausted));
        var retry = refused.RichStatus!.Details.Single().Unpack<RetryInfo>();
        Assert.That(retry.RetryDelay.ToTimeSpan(), Is.EqualTo(TimeSpan.FromSeconds(7)));
        Assert.That(readyWhileFull.Single(HealthCheckResponse.Parser).Status, Is.EqualTo(ServingStatus.NotServing));

        await workflows.OkAsync("Cancel", new CancelJobRequest { JobId = pending.JobId }, CancelJobResponse.Parser);
        using var watch = server.Client.Start("/grpc.health.v1.Health/Watch");
        await watch.SendAsync(new HealthCheckRequest { Service = "ready" });
        watch.CompleteRequest();
        while ((await watch.ReadAsync(HealthCheckResponse.Parser).WaitAsync(Hang))!.Status != ServingStatus.Serving) { }

        var accepted = await workflows.SubmitAsync(TestWorkflows.Pipeline(4));
        server.Gates.Release(gate);
        Assert.That(await server.FinishedAsync(running.JobId), Is.EqualTo(JobStatus.Succeeded));
        Assert.That(await server.FinishedAsync(accepted.JobId), Is.EqualTo(JobStatus.Succeeded));
    }
}
