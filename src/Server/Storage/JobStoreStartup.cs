using CharacterGen.GraphRuntime.Engine;
using CharacterGen.GraphRuntime.Jobs;

namespace CharacterGen.Server.Storage;

/// <summary>
/// Builds the engine when the host starts (rather than on the first request), so that jobs restored from the store
/// run again at once, and logs what came back.
/// </summary>
internal sealed class JobStoreStartup(IServiceProvider services, ILogger<JobStoreStartup> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        var engine = services.GetRequiredService<WorkflowEngine>();
        var queue = engine.Queue;
        var unfinished = queue.Pending.Count + queue.AllRunning.Count;
        logger.LogInformation("Job store {Store}: {Unfinished} unfinished jobs queued to run, {History} in history",
            services.GetRequiredService<IJobStore>().GetType().Name, unfinished, engine.History.Count);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
