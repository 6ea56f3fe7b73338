using CharacterGen.Nodes.Files;
using CharacterGen.Nodes.ModelCaching;
using CharacterGen.Server.Grpc.Health;
using CharacterGen.Tensors;
using Microsoft.Extensions.Hosting;

namespace CharacterGen.Server.Hosting;

/// <summary>
/// Keeps "ready" NOT_SERVING while the server could not run a job anyway: the models folder is missing or cannot be
/// read (a lost mount), or the device the weights go to does not answer (no CUDA, a device that is gone or whose
/// context broke). Looks at start-up and then every <see cref="PollInterval"/>; each look is a directory open and,
/// on CUDA, one memory query, so it stays cheap. Each change is logged with its reason (Warning when not ready,
/// Information when recovered).
/// </summary>
public sealed class ResourceReadiness(ModelFolders models, ModelCache cache, ReadyConditions ready, ILogger<ResourceReadiness> logger)
    : BackgroundService
{
    public const string ModelsCondition = "models";
    public const string DeviceCondition = "device";

    public static readonly TimeSpan DefaultPollInterval = TimeSpan.FromSeconds(5);

    private readonly Lock _looking = new();

    public TimeSpan PollInterval { get; init; } = DefaultPollInterval;

    /// <summary>Looks at the models folder and the device now, updating "ready" when either changed.</summary>
    public void Refresh()
    {
        // One look at a time, so an older look can never overwrite a newer one's finding.
        lock (_looking)
        {
            Update(ModelsCondition, ModelStoreProblem(models.Root));
            Update(DeviceCondition, DeviceProblem(cache.Options.Device));
        }
    }

    /// <summary>Why the models folder cannot serve, or null when it can be listed.</summary>
    public static string? ModelStoreProblem(string root)
    {
        try
        {
            if (!Directory.Exists(root)) return $"the models folder {root} does not exist";
            // Opening the listing is what a lost mount or a permission change breaks; one entry is enough.
            using var entries = Directory.EnumerateFileSystemEntries(root).GetEnumerator();
            entries.MoveNext();
            return null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return $"the models folder {root} cannot be read: {e.Message}";
        }
    }

    /// <summary>Why <paramref name="device"/> cannot run jobs, or null when it answers (the CPU always does).</summary>
    public static string? DeviceProblem(Device device)
    {
        if (!device.IsCuda) return null;
        try
        {
            if (!Cuda.IsAvailable) return $"device {device} is not available: libtorch has no CUDA or finds no driver";
            int count = Cuda.DeviceCount;
            if (device.Index >= count) return $"device {device} does not exist ({count} CUDA device{(count == 1 ? "" : "s")})";
            _ = Cuda.DeviceMemory(device.Index); // fails once the device is lost or its context is broken
            return null;
        }
        catch (TorchException e)
        {
            return $"device {device} failed: {e.Message}";
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await Task.Yield(); // start-up does not wait for the first look
            Refresh();
            using var timer = new PeriodicTimer(PollInterval);
            while (await timer.WaitForNextTickAsync(stoppingToken)) Refresh();
        }
        catch (OperationCanceledException) { }
    }

    private void Update(string condition, string? problem)
    {
        if (!ready.Report(condition, problem)) return;
        if (problem is null) logger.LogInformation("Ready again: the {Condition} check passes", condition);
        else logger.LogWarning("Not ready: {Problem}", problem);
    }
}
