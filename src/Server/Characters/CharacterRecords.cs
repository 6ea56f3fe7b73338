namespace CharacterGen.Server.Characters;

/// <summary>Where a character is in its flow (stored as the lowercase names below).</summary>
public enum CharacterStatus { Initial, BaseApproved, GeneratingTraining, Training, Ready, Error }

public static class CharacterStatusNames
{
    public static string Name(this CharacterStatus status) => status switch
    {
        CharacterStatus.Initial => "initial",
        CharacterStatus.BaseApproved => "base_approved",
        CharacterStatus.GeneratingTraining => "generating_training",
        CharacterStatus.Training => "training",
        CharacterStatus.Ready => "ready",
        _ => "error",
    };

    public static CharacterStatus Parse(string name) =>
        Enum.GetValues<CharacterStatus>().FirstOrDefault(s => s.Name() == name, CharacterStatus.Error);

    /// <summary>A step runs in the background in these states (resumed after a restart).</summary>
    public static bool IsRunning(this CharacterStatus status) => status is CharacterStatus.GeneratingTraining or CharacterStatus.Training;
}

/// <summary>Width, height, steps and cfg a character's pictures are rendered with.</summary>
public sealed record RenderDefaults(int Width, int Height, int Steps, double Cfg);

public sealed record CharacterRecord
{
    public required string Id { get; init; }
    public string Name { get; init; } = "";
    public required string Description { get; init; }
    public string NegativePrompt { get; init; } = "";
    public required string Checkpoint { get; init; }
    public required string TriggerWord { get; init; }
    public required RenderDefaults Render { get; init; }
    public CharacterStatus Status { get; init; } = CharacterStatus.Initial;
    public string ErrorMessage { get; init; } = "";
    public string? ApprovedCandidateId { get; init; }
    public string? ClientRequestId { get; init; }
    /// <summary>The training set wanted by the last GenerateTrainingSet (JSON of <see cref="TrainingPlan"/>).</summary>
    public TrainingPlan? Plan { get; init; }
    public string? LoraName { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }
    public required DateTimeOffset UpdatedAt { get; init; }
}

/// <summary>One stored picture: its asset and size.</summary>
public sealed record StoredImage(string AssetId, int Width, int Height);

public sealed record CandidateRecord(string Id, string CharacterId, StoredImage Image, string Prompt, long Seed, DateTimeOffset CreatedAt);

public sealed record TrainingImageRecord(string Id, string CharacterId, int Index, StoredImage Image, string Prompt, long Seed, DateTimeOffset CreatedAt);

/// <summary>The images GenerateTrainingSet asked for: prompt and seed per index; the missing ones are still to render.</summary>
public sealed record TrainingPlan(IReadOnlyList<PlannedImage> Images, double Strength, RenderDefaults Render, string RequestId, string? ClientRequestId);

public sealed record PlannedImage(int Index, string Prompt, long Seed);

/// <summary>One Train call: its settings, the engine job, and the last progress tick (JSON of the proto's TrainingProgress).</summary>
public sealed record TrainingRunRecord
{
    public required string Id { get; init; }
    public required string CharacterId { get; init; }
    public required int Rank { get; init; }
    public required double Alpha { get; init; }
    public required int Steps { get; init; }
    public required double LearningRate { get; init; }
    public required long Seed { get; init; }
    public string? LastProgress { get; init; }
    public required DateTimeOffset StartedAt { get; init; }
    public DateTimeOffset? FinishedAt { get; init; }
}
