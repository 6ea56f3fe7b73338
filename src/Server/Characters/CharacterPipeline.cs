using CharacterGen.Protos.V1;
using Google.Protobuf;
using Domain = CharacterGen.GraphRuntime.Events;

namespace CharacterGen.Server.Characters;

/// <summary>
/// The background steps of a character (training-set generation, LoRA training), one at a time per character, each
/// a sequence of ordinary engine jobs. State changes are written to the store before they are published. On start it
/// resumes every character the store shows running: the missing training images are rendered, and training is
/// resubmitted under the same request id, so the engine's restored job (or the training node's last checkpoint)
/// carries on where the killed process stopped.
/// </summary>
public sealed partial class CharacterPipeline(
    CharacterStore store, CharacterEvents events, StepRunner runner, StepWorkflows workflows, CharacterOptions options,
    IHostApplicationLifetime lifetime, ILogger<CharacterPipeline> logger) : IHostedService
{
    private readonly object _gate = new();
    private readonly Dictionary<string, RunningStep> _running = new(StringComparer.Ordinal);

    /// <summary>Serialises read-check-write sequences on characters (calls and background steps alike).</summary>
    public object Gate { get; } = new();

    private sealed record RunningStep(CancellationTokenSource Cancellation, Task Task)
    {
        public bool CancelledByClient { get; set; }
    }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        foreach (var c in store.Running())
        {
            LogResuming(logger, c.Id, c.Status.Name());
            Start(c.Id);
        }
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        // The engine has stopped by now (ShutdownGuard stops first), which ends the steps' jobs; their states stay.
        Task[] tasks;
        lock (_gate) tasks = _running.Values.Select(r => r.Task).ToArray();
        try { await Task.WhenAll(tasks).WaitAsync(cancellationToken); }
        catch (OperationCanceledException) { }
    }

    /// <summary>Starts the step the character's stored state says is running (after the caller set that state).</summary>
    public void Start(string characterId)
    {
        lock (_gate)
        {
            if (_running.ContainsKey(characterId)) return;
            // Only a client's cancel cancels the step's job: at shutdown the engine stops the job without recording
            // a cancellation, so the restarted server runs it again.
            var cancellation = new CancellationTokenSource();
            var task = new Task<Task>(() => RunAsync(characterId, cancellation.Token));
            _running[characterId] = new RunningStep(cancellation, task.Unwrap());
            task.Start(TaskScheduler.Default);
        }
    }

    /// <summary>Stops a character's running step at the client's request; false when none runs.</summary>
    public bool Cancel(string characterId)
    {
        RunningStep? step;
        lock (_gate)
        {
            if (!_running.TryGetValue(characterId, out step)) return false;
            step.CancelledByClient = true;
        }
        step.Cancellation.Cancel();
        return true;
    }

    /// <summary>Waits until the character's running step (if any) has ended.</summary>
    public async Task WaitIdleAsync(string characterId)
    {
        Task? task;
        lock (_gate) task = _running.TryGetValue(characterId, out var step) ? step.Task : null;
        if (task is not null)
            try { await task; }
            catch (Exception) { /* reported through the state */ }
    }

    /// <summary>Writes a new state and tells watchers; returns the updated record.</summary>
    public CharacterRecord Transition(CharacterRecord c, CharacterStatus to, string message = "", Func<CharacterRecord, CharacterRecord>? change = null)
    {
        var updated = (change?.Invoke(c) ?? c) with
        {
            Status = to,
            ErrorMessage = to == CharacterStatus.Error ? message : "",
            UpdatedAt = DateTimeOffset.UtcNow,
        };
        store.Update(updated);
        if (c.Status != to) events.Publish(CharacterMapping.StateChanged(c.Id, c.Status, to, to == CharacterStatus.Error ? message : ""));
        return updated;
    }

    private async Task RunAsync(string characterId, CancellationToken cancellationToken)
    {
        await Task.Yield();
        try
        {
            var c = store.Find(characterId);
            if (c is null) return;
            if (c.Status == CharacterStatus.GeneratingTraining) await GenerateTrainingSetAsync(c, cancellationToken);
            else if (c.Status == CharacterStatus.Training) await TrainAsync(c, cancellationToken);
        }
        catch (Exception) when (lifetime.ApplicationStopping.IsCancellationRequested)
        {
            // The server is stopping: the state stays running and the step resumes at the next start.
        }
        catch (Exception e) when (e is OperationCanceledException || e is CharacterStepException { Failure: StepFailure.Cancelled })
        {
            bool byClient;
            lock (_gate) byClient = _running.TryGetValue(characterId, out var step) && step.CancelledByClient;
            if (byClient) Settle(characterId, CharacterStatus.BaseApproved, "");
            else Settle(characterId, CharacterStatus.Error, "the step's job was cancelled outside the Characters API");
        }
        catch (Exception e) when (e is CharacterStepException or CharacterWorkflowException or IOException)
        {
            Settle(characterId, CharacterStatus.Error, e.Message);
        }
        catch (Exception e)
        {
            LogStepCrashed(logger, characterId, e);
            Settle(characterId, CharacterStatus.Error, "internal error (see the server log)");
        }
        finally
        {
            lock (_gate) _running.Remove(characterId);
        }
    }

    private void Settle(string characterId, CharacterStatus to, string message)
    {
        lock (Gate)
        {
            if (store.Find(characterId) is { } c && c.Status.IsRunning()) Transition(c, to, message);
        }
    }

    private async Task GenerateTrainingSetAsync(CharacterRecord c, CancellationToken cancellationToken)
    {
        var plan = c.Plan ?? throw new CharacterStepException(StepFailure.Failed, "no training set was planned");
        var baseInput = await WriteBaseImageAsync(c, cancellationToken);
        var done = store.TrainingImages(c.Id).Select(i => i.Index).ToHashSet();
        foreach (var planned in plan.Images)
        {
            if (done.Contains(planned.Index)) continue;
            var render = new RenderParameters(plan.Render.Width, plan.Render.Height, plan.Render.Steps, plan.Render.Cfg, planned.Seed);
            var workflow = workflows.TrainingImage(c, baseInput, planned.Prompt, render, plan.Strength);
            var job = await runner.RunAsync(workflow, $"{plan.RequestId}/{planned.Index}", null, cancellationToken);
            var (image, _) = await runner.SaveImageAsync(job, workflow, StepBindings.SaveImageTitle, cancellationToken);
            var record = new TrainingImageRecord(NewId("t"), c.Id, planned.Index, image, planned.Prompt, planned.Seed, DateTimeOffset.UtcNow);
            lock (Gate)
            {
                if (store.Find(c.Id)?.Status != CharacterStatus.GeneratingTraining) return; // deleted or cancelled meanwhile
                store.PutTrainingImage(record);
            }
            done.Add(planned.Index);
            events.Publish(new CharacterEvent
            {
                CharacterId = c.Id,
                TrainingSetProgress = new TrainingSetProgress
                {
                    Done = plan.Images.Count(p => done.Contains(p.Index)),
                    Total = plan.Images.Count,
                    Image = CharacterMapping.ToProto(record),
                },
            });
        }
        lock (Gate)
        {
            if (store.Find(c.Id) is { Status: CharacterStatus.GeneratingTraining } current) Transition(current, CharacterStatus.BaseApproved);
        }
    }

    private async Task TrainAsync(CharacterRecord c, CancellationToken cancellationToken)
    {
        var run = store.LatestRun(c.Id) ?? throw new CharacterStepException(StepFailure.Failed, "no training run was recorded");
        var folder = await WriteDatasetAsync(c, cancellationToken);
        var workflow = workflows.Training(c, run, folder);
        var lastSaved = DateTimeOffset.MinValue;
        string? lastProgress = run.LastProgress;
        void OnProgress(Domain.NodeProgress tick)
        {
            if (tick.Details is null || WorkflowsApi.JobEventMapping.TrainingOf(tick.Details) is not { } progress) return;
            events.Publish(new CharacterEvent { CharacterId = c.Id, TrainingProgress = progress });
            lastProgress = JsonFormatter.Default.Format(progress);
            var now = DateTimeOffset.UtcNow;
            if (now - lastSaved < TimeSpan.FromSeconds(1) && progress.Step < progress.TotalSteps) return; // the store keeps up to a tick a second
            lastSaved = now;
            store.UpdateRun(run.Id, lastProgress, null);
        }
        var job = await runner.RunAsync(workflow, $"character/{c.Id}/train/{run.Id}", OnProgress, cancellationToken);
        var lora = runner.OutputFile(job, workflow.NodeId(StepBindings.SaveLoraTitle), "loras");
        var loraName = $"{c.Id}/{Path.GetFileName(lora)}";
        store.UpdateRun(run.Id, lastProgress, DateTimeOffset.UtcNow);
        lock (Gate)
        {
            if (store.Find(c.Id) is { Status: CharacterStatus.Training } current)
                Transition(current, CharacterStatus.Ready, change: r => r with { LoraName = loraName });
        }
    }

    /// <summary>The approved base image under input/ for variation.json's LoadImage.</summary>
    public async Task<string> WriteBaseImageAsync(CharacterRecord c, CancellationToken cancellationToken)
    {
        var approved = store.Candidates(c.Id).FirstOrDefault(k => k.Id == c.ApprovedCandidateId)
            ?? throw new CharacterStepException(StepFailure.Failed, "the approved base image is missing");
        var bytes = await runner.ReadAssetAsync(approved.Image.AssetId, cancellationToken)
            ?? throw new CharacterStepException(StepFailure.Failed, $"asset {approved.Image.AssetId} of the base image is missing");
        return runner.WriteInput($"characters/{c.Id}/base.png", bytes);
    }

    /// <summary>
    /// The training set as input/characters/&lt;id&gt;/dataset/ (PNG + caption per image), for train.json's dataset node.
    /// Rewritten from the assets with the same bytes each time, so a resumed run hashes to the same checkpoint.
    /// </summary>
    private async Task<string> WriteDatasetAsync(CharacterRecord c, CancellationToken cancellationToken)
    {
        var folder = $"characters/{c.Id}/dataset";
        var wanted = new HashSet<string>(StringComparer.Ordinal);
        foreach (var image in store.TrainingImages(c.Id))
        {
            var bytes = await runner.ReadAssetAsync(image.Image.AssetId, cancellationToken)
                ?? throw new CharacterStepException(StepFailure.Failed, $"asset {image.Image.AssetId} of training image {image.Index} is missing");
            var name = $"{image.Index:D4}";
            runner.WriteInput($"{folder}/{name}.png", bytes);
            runner.WriteInput($"{folder}/{name}.txt", System.Text.Encoding.UTF8.GetBytes(StepWorkflows.TrainingCaption(c, image.Prompt)));
            wanted.Add(name + ".png");
            wanted.Add(name + ".txt");
        }
        foreach (var stale in Directory.EnumerateFiles(runner.InputPath(folder)).Where(f => !wanted.Contains(Path.GetFileName(f))))
            File.Delete(stale);
        return folder;
    }

    public static string NewId(string prefix) => $"{prefix}-{Guid.NewGuid():N}";

    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "Character {CharacterId} was {State} when the server stopped; resuming")]
    private static partial void LogResuming(ILogger logger, string characterId, string state);

    [LoggerMessage(EventId = 2, Level = LogLevel.Error, Message = "Character {CharacterId}: its step failed unexpectedly")]
    private static partial void LogStepCrashed(ILogger logger, string characterId, Exception exception);
}
