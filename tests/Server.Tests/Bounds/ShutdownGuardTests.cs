using System.Runtime.InteropServices;
using CharacterGen.GraphRuntime.Engine;
using CharacterGen.Server.Hosting;
using CharacterGen.Server.Tests.ComfyApi.Support;
using Microsoft.Extensions.Hosting.Internal;
using Microsoft.Extensions.Logging.Abstractions;

namespace CharacterGen.Server.Tests.Bounds;

/// <summary>
/// Issue #10, failure 2 (second half): SIGTERM with the default 30 s timeout did not stop the process after 190 s.
/// The guard ends a process whose graceful stop overruns, or that gets a second signal.
/// </summary>
public sealed class ShutdownGuardTests
{
    private sealed class ExitRecorder
    {
        public TaskCompletionSource<int> Code { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public ProcessExitPolicy Policy => new() { Exit = code => Code.TrySetResult(code), RegisterSignals = false };
    }

    [Test]
    public async Task A_second_signal_forces_the_exit_at_once()
    {
        using var nodes = new ComfyTestNodes();
        await using var engine = new WorkflowEngine(nodes.Catalog);
        var lifetime = new ApplicationLifetime(NullLogger<ApplicationLifetime>.Instance);
        var exit = new ExitRecorder();
        using var guard = new ShutdownGuard(engine, new ServerOptions { ShutdownTimeoutSeconds = 600 }, lifetime,
            NullLogger<ShutdownGuard>.Instance, exit.Policy);

        guard.OnSignal(PosixSignal.SIGTERM);
        Assert.That(exit.Code.Task.IsCompleted, Is.False, "the first signal is the graceful stop");
        guard.OnSignal(PosixSignal.SIGTERM);

        Assert.That(await exit.Code.Task.WaitAsync(TimeSpan.FromSeconds(5)), Is.EqualTo(ShutdownGuard.ExitForced));
    }

    [Test]
    public async Task A_graceful_stop_that_overruns_the_shutdown_timeout_forces_the_exit()
    {
        using var nodes = new ComfyTestNodes();
        await using var engine = new WorkflowEngine(nodes.Catalog);
        var lifetime = new ApplicationLifetime(NullLogger<ApplicationLifetime>.Instance);
        var exit = new ExitRecorder();
        using var guard = new ShutdownGuard(engine, new ServerOptions { ShutdownTimeoutSeconds = 1 }, lifetime,
            NullLogger<ShutdownGuard>.Instance, exit.Policy);

        var started = DateTime.UtcNow;
        lifetime.StopApplication(); // and then nothing finishes

        Assert.That(await exit.Code.Task.WaitAsync(TimeSpan.FromSeconds(10)), Is.EqualTo(ShutdownGuard.ExitForced));
        Assert.That(DateTime.UtcNow - started, Is.GreaterThanOrEqualTo(TimeSpan.FromSeconds(1)), "not before the timeout");
    }

    [Test]
    public async Task Stopping_cancels_the_running_job_so_in_flight_watchers_finish()
    {
        using var nodes = new ComfyTestNodes();
        await using var engine = new WorkflowEngine(nodes.Catalog);
        var lifetime = new ApplicationLifetime(NullLogger<ApplicationLifetime>.Instance);
        using var guard = new ShutdownGuard(engine, new ServerOptions(), lifetime, NullLogger<ShutdownGuard>.Instance);
        var submitted = engine.Submit(TestWorkflows.Blocking().ToJsonString());
        Assert.That(await nodes.Entered.WaitAsync(ComfySocket.Hang));

        await guard.StopAsync(new CancellationTokenSource(TimeSpan.FromSeconds(20)).Token);

        Assert.That(engine.GetJob(submitted.JobId!)!.Status.ToString(), Is.EqualTo("Cancelled"));
    }
}
