using CharacterGen.GraphRuntime.Engine;
using CharacterGen.GraphRuntime.Execution;
using CharacterGen.GraphRuntime.Jobs;
using CharacterGen.Nodes.Files;
using CharacterGen.Server.Assets;
using Domain = CharacterGen.GraphRuntime.Events;

namespace CharacterGen.Server.Characters;

/// <summary>
/// Runs one step workflow as an ordinary job of the shared engine and queue, and turns what it wrote into assets.
/// A request id makes the submission idempotent: after a restart the same id finds the job the engine restored (still
/// queued, re-run, or finished) instead of queueing a second one.
/// </summary>
public sealed class StepRunner(WorkflowEngine engine, AssetStore assets, DataFolders folders)
{
    /// <summary>Queues <paramref name="workflow"/> and waits for it; progress ticks go to <paramref name="progress"/>.</summary>
    /// <exception cref="CharacterStepException">Refused by validation, queue full, failed or cancelled.</exception>
    public async Task<JobSnapshot> RunAsync(StepWorkflow workflow, string? requestId, Action<Domain.NodeProgress>? progress,
        CancellationToken cancellationToken)
    {
        var submitted = engine.Submit(workflow.ToJson(), new SubmitOptions { ClientRequestId = requestId });
        switch (submitted.Status)
        {
            case SubmitStatus.QueueFull:
                throw new CharacterStepException(StepFailure.QueueFull, $"The job queue is full ({engine.Options.QueueCapacity} pending jobs). Retry later.");
            case SubmitStatus.Invalid:
                throw new CharacterStepException(StepFailure.Invalid, $"characters/{workflow.Name} does not validate: {Describe(submitted.Validation!)}");
        }
        var jobId = submitted.JobId!;
        var finished = false;
        try
        {
            await foreach (var e in engine.Subscribe(jobId, 1, cancellationToken))
                if (e is Domain.NodeProgress tick) progress?.Invoke(tick);
            finished = true;
        }
        finally
        {
            if (!finished && cancellationToken.IsCancellationRequested) engine.Cancel(jobId);
        }
        var job = engine.GetJob(jobId) ?? throw new CharacterStepException(StepFailure.Failed, $"job {jobId} left the history before it could be read");
        return job.Status switch
        {
            JobStatus.Succeeded => job,
            JobStatus.Cancelled => throw new CharacterStepException(StepFailure.Cancelled, $"characters/{workflow.Name} was cancelled"),
            _ => throw new CharacterStepException(StepFailure.Failed,
                $"characters/{workflow.Name} failed{(job.Error?.ClassType is { } type ? " in " + type : "")}: {job.Error?.Message}"),
        };
    }

    /// <summary>The first image the node titled <paramref name="title"/> saved, stored as an asset.</summary>
    public async Task<(StoredImage Image, byte[] Png)> SaveImageAsync(JobSnapshot job, StepWorkflow workflow, string title, CancellationToken cancellationToken)
    {
        var path = OutputFile(job, workflow.NodeId(title), "images");
        var png = await File.ReadAllBytesAsync(path, cancellationToken);
        return (await StoreAsync(png, "image.png", cancellationToken), png);
    }

    /// <summary>The full path of the first file a node's ui output lists under <paramref name="key"/>, inside output/.</summary>
    public string OutputFile(JobSnapshot job, string nodeId, string key)
    {
        if (!job.Outputs.TryGetValue(nodeId, out var ui) || !ui.TryGetValue(key, out var listed) || listed is not IEnumerable<object?> entries
            || entries.FirstOrDefault() is not IReadOnlyDictionary<string, object?> entry)
            throw new CharacterStepException(StepFailure.Failed, $"node {nodeId} reported no {key}");
        var subfolder = entry.GetValueOrDefault("subfolder") as string ?? "";
        var name = entry.GetValueOrDefault("filename") as string ?? "";
        return SafePath.Resolve(folders.Output, subfolder.Length == 0 ? name : subfolder + "/" + name);
    }

    public async Task<StoredImage> StoreAsync(byte[] png, string fileName, CancellationToken cancellationToken)
    {
        using var stream = new MemoryStream(png, writable: false);
        var saved = await assets.SaveAsync(stream, new AssetMetadata(fileName, "image/png"), cancellationToken);
        var (width, height) = PngSize(png);
        return new StoredImage(saved.Asset.Id.Value, width, height);
    }

    /// <summary>An asset's bytes, or null when there is no such asset.</summary>
    public async Task<byte[]?> ReadAssetAsync(string assetId, CancellationToken cancellationToken)
    {
        if (!AssetId.TryParse(assetId, out var id)) return null;
        await using var stream = assets.OpenRead(id);
        if (stream is null) return null;
        using var copy = new MemoryStream();
        await stream.CopyToAsync(copy, cancellationToken);
        return copy.ToArray();
    }

    /// <summary>
    /// Writes bytes under input/ (atomically; replaced when different) for a LoadImage or dataset node; returns the
    /// name the node takes, relative to input/.
    /// </summary>
    public string WriteInput(string relativePath, byte[] bytes)
    {
        var target = SafePath.Resolve(folders.Input, relativePath);
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        if (!File.Exists(target) || !File.ReadAllBytes(target).AsSpan().SequenceEqual(bytes))
            AtomicFile.Write(target, bytes, "input", overwrite: true);
        return relativePath;
    }

    public string InputPath(string relativePath) => SafePath.Resolve(folders.Input, relativePath);

    private static string Describe(GraphRuntime.Validation.ValidationResult validation)
    {
        if (validation.NodeErrors.Values.FirstOrDefault() is { } node && node.Errors.FirstOrDefault() is { } error)
            return $"{node.ClassType} {error}";
        return validation.Error?.ToString() ?? "invalid workflow";
    }

    /// <summary>Width and height from a PNG's IHDR chunk; (0, 0) for anything else.</summary>
    public static (int Width, int Height) PngSize(ReadOnlySpan<byte> png) =>
        png.Length >= 24 && png[1] == (byte)'P' && png[12] == (byte)'I'
            ? (System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(png[16..]), System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(png[20..]))
            : (0, 0);
}

public enum StepFailure { Invalid, QueueFull, Failed, Cancelled }

/// <summary>A step workflow did not produce its result; the message is for people (no paths).</summary>
public sealed class CharacterStepException(StepFailure failure, string message) : Exception(message)
{
    public StepFailure Failure { get; } = failure;
}
