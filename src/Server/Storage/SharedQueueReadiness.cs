using CharacterGen.GraphRuntime.Engine;
using CharacterGen.GraphRuntime.Jobs;
using CharacterGen.Server.Grpc.Health;
using CharacterGen.Server.Hosting;

namespace CharacterGen.Server.Storage;

/// <summary>
/// A node of a shared queue: keeps "ready" NOT_SERVING while the PostgreSQL database cannot be reached (a round trip
/// every <see cref="PollInterval"/>, plus what the claim loop and heartbeats find), since nothing can be stored then;
/// it turns SERVING again by itself once the database answers. Also names the node's role as a health entry
/// ("charactergen.role.api", "…worker" or "…all", SERVING), so a probe can ask what a node is.
/// </summary>
internal sealed class SharedQueueReadiness(ISharedJobStore store, WorkflowEngine engine, ReadyConditions ready, HealthState health,
    ServerOptions options, ILogger<SharedQueueReadiness> logger) : BackgroundService
{
    public const string Condition = "database";
    public const string RolePrefix = "charactergen.role.";

    public TimeSpan PollInterval { get; init; } = TimeSpan.FromSeconds(1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var role = options.Cluster.Role.ToString().ToLowerInvariant();
        health.SetStatus(RolePrefix + role, ServingStatus.Serving);
        logger.LogInformation("Shared queue node: role {Role}, worker {Worker}, lease {Lease} s", role,
            engine.Options.Shared?.WorkerId, options.Cluster.LeaseSeconds);
        engine.SharedStoreProblem += Update;
        engine.LeaseLost += jobId => logger.LogWarning("Lost the lease on job {JobId}: another worker runs it; this run's result is discarded", jobId);
        try
        {
            using var timer = new PeriodicTimer(PollInterval);
            do
            {
                string? problem = null;
                try { await Task.Run(store.Ping, stoppingToken); }
                catch (JobStoreException e) { problem = e.Message; }
                Update(problem);
            }
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException) { }
        finally { engine.SharedStoreProblem -= Update; }
    }

    private void Update(string? problem)
    {
        if (!ready.Report(Condition, problem is null ? null : $"the shared job database cannot be reached: {problem}")) return;
        if (problem is null) logger.LogInformation("Ready again: the shared job database answers");
        else logger.LogWarning("Not ready: the shared job database cannot be reached: {Problem}", problem);
    }
}
