using System.Runtime.InteropServices;
using CharacterGen.GraphRuntime.Engine;

namespace CharacterGen.Server.Hosting;

/// <summary>
/// What shutdown does beyond the host's defaults. When stopping begins (SIGTERM, Ctrl-C), the engine is stopped at
/// once: the running job is cancelled (it ends within about one model block, see <c>Interrupts</c>) and pending ones
/// are cancelled, so watchers get their final event and in-flight calls drain. If the graceful stop overruns
/// <see cref="ServerOptions.ShutdownTimeoutSeconds"/> (plus one second), or a second SIGTERM/SIGINT arrives, the process
/// exits at once with <see cref="ExitForced"/>.
/// </summary>
public sealed class ShutdownGuard : IHostedService, IDisposable
{
    /// <summary>Exit code of a forced exit (128 + SIGTERM, what a killed process reports).</summary>
    public const int ExitForced = 143;
    public static readonly TimeSpan Grace = TimeSpan.FromSeconds(1);

    private readonly WorkflowEngine _engine;
    private readonly TimeSpan _timeout;
    private readonly ILogger<ShutdownGuard> _logger;
    private readonly ProcessExitPolicy? _exit;
    private readonly List<PosixSignalRegistration> _signals = [];
    private readonly CancellationTokenRegistration _stopping;
    private int _signalCount;
    private Timer? _watchdog;

    /// <param name="exit">
    /// Set only when this host owns the process (`serve`): then a second signal or an overrun ends it. In-process
    /// hosts (tests, embedding) get the engine stop alone.
    /// </param>
    public ShutdownGuard(WorkflowEngine engine, ServerOptions options, IHostApplicationLifetime lifetime, ILogger<ShutdownGuard> logger,
        ProcessExitPolicy? exit = null)
    {
        _engine = engine;
        _timeout = TimeSpan.FromSeconds(options.ShutdownTimeoutSeconds);
        _logger = logger;
        _exit = exit;
        if (exit is null) return;
        _stopping = lifetime.ApplicationStopping.Register(ArmWatchdog);
        if (exit.RegisterSignals)
            foreach (var signal in new[] { PosixSignal.SIGTERM, PosixSignal.SIGINT })
                _signals.Add(PosixSignalRegistration.Create(signal, context => OnSignal(context.Signal)));
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Stops the engine first (registered last, so the host stops this before the transports drain).</summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        try { await _engine.DisposeAsync().AsTask().WaitAsync(cancellationToken); }
        catch (OperationCanceledException) { _logger.LogWarning("The running job did not stop within the shutdown timeout"); }
    }

    /// <summary>The host's own handler starts the graceful stop on the first signal; the second one ends the process.</summary>
    internal void OnSignal(PosixSignal signal)
    {
        if (_exit is null || Interlocked.Increment(ref _signalCount) < 2) return;
        _logger.LogWarning("Second {Signal}: exiting without waiting for the graceful shutdown", signal);
        _exit.Exit(ExitForced);
    }

    // Never disarmed: disposal (of the tensor thread, say) comes after the host's stop and could hang too. The timer
    // does not keep a finished process alive.
    private void ArmWatchdog() => _watchdog ??= new Timer(_ =>
    {
        _logger.LogWarning("Shutdown took longer than {Seconds} s: exiting", _timeout.TotalSeconds);
        _exit!.Exit(ExitForced);
    }, null, _timeout + Grace, Timeout.InfiniteTimeSpan);

    public void Dispose()
    {
        _stopping.Dispose();
        foreach (var registration in _signals) registration.Dispose();
    }
}

/// <summary>Registered by a host that owns its process: how to end it when shutdown must be forced.</summary>
public sealed class ProcessExitPolicy
{
    /// <summary>
    /// Ends the process now. Not <see cref="Environment.Exit(int)"/>: its ProcessExit handlers include the host's, which
    /// waits for the very shutdown that is stuck. On Unix it is _exit(2), which runs nothing more.
    /// </summary>
    public Action<int> Exit { get; init; } = ExitNow;
    /// <summary>Count SIGTERM/SIGINT (a second one forces the exit).</summary>
    public bool RegisterSignals { get; init; } = true;

    private static void ExitNow(int code)
    {
        Console.Error.WriteLine($"charactergen: forced exit ({code}) during shutdown");
        Console.Error.Flush();
        if (OperatingSystem.IsWindows()) Environment.Exit(code);
        else UnixExit(code);
    }

    [DllImport("libc", EntryPoint = "_exit")] // blittable int: no marshalling, so no LibraryImport (and no unsafe) needed
    private static extern void UnixExit(int status);
}
