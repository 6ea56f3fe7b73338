namespace CharacterGen.Server.Characters;

/// <summary>
/// The character pipeline's deployment settings (section <c>Characters</c>): the model and render defaults every
/// step uses unless a request sets them, the actor prompt template, and the per-user model aliases. The defaults
/// suit the 64×64 demo and test models; a deployment on real SD1.5 sets 512×512 and more steps.
/// </summary>
public sealed record CharacterOptions
{
    public const string DefaultActorPromptTemplate =
        "Professional full-body studio portrait photograph of a {description}. Neutral grey seamless backdrop, soft even " +
        "studio lighting, standing straight facing the camera, arms relaxed, whole body in frame from head to feet, sharp focus, high detail.";

    /// <summary>The checkpoint file or model alias used when a request names none.</summary>
    public string Checkpoint { get; init; } = "";

    /// <summary>Folder of the step workflows (base.json …); empty = <c>characters/</c> inside the workflows folder.</summary>
    public string WorkflowsFolder { get; init; } = "";

    public int Width { get; init; } = 64;
    public int Height { get; init; } = 64;
    public int Steps { get; init; } = 12;
    public double Cfg { get; init; } = 7.0;

    /// <summary>KSampler denoise of base_from_photo.json: how far the base image may depart from the photo.</summary>
    public double PhotoStrength { get; init; } = 0.6;

    /// <summary>KSampler denoise of variation.json: how far a training image may depart from the base image.</summary>
    public double VariationStrength { get; init; } = 0.55;

    public int TrainingSetSize { get; init; } = 10;
    public int MinTrainingImages { get; init; } = 5;
    public int TrainingSteps { get; init; } = 200;
    public int LoraRank { get; init; } = 16;
    public double LoraAlpha { get; init; } = 32;
    public double LearningRate { get; init; } = 1e-4;

    /// <summary>Training steps between resumable checkpoints (TrainLoraNode checkpoint_every).</summary>
    public int CheckpointEvery { get; init; } = 50;

    /// <summary>The actor flow's prompt; <c>{description}</c> is replaced by the request's description.</summary>
    public string ActorPromptTemplate { get; init; } = DefaultActorPromptTemplate;
    public int ActorWidth { get; init; } = 1024;
    public int ActorHeight { get; init; } = 1536;
    public int ActorSteps { get; init; } = 25;

    /// <summary>User name → model alias (or checkpoint file) for the per-user Generate call.</summary>
    public Dictionary<string, string> UserModels { get; init; } = new(StringComparer.Ordinal);

    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        void Range(string name, double value, double min, double max)
        {
            if (!(value >= min && value <= max)) errors.Add($"Characters:{name} must be between {min} and {max} (got {value}).");
        }
        Range(nameof(Width), Width, 16, 8192);
        Range(nameof(Height), Height, 16, 8192);
        Range(nameof(ActorWidth), ActorWidth, 16, 8192);
        Range(nameof(ActorHeight), ActorHeight, 16, 8192);
        Range(nameof(Steps), Steps, 1, 10000);
        Range(nameof(ActorSteps), ActorSteps, 1, 10000);
        Range(nameof(Cfg), Cfg, 0, 100);
        Range(nameof(PhotoStrength), PhotoStrength, 0.01, 1);
        Range(nameof(VariationStrength), VariationStrength, 0.01, 1);
        Range(nameof(TrainingSetSize), TrainingSetSize, 1, CharacterLimits.MaxTrainingSetSize);
        Range(nameof(MinTrainingImages), MinTrainingImages, 1, CharacterLimits.MaxTrainingSetSize);
        Range(nameof(TrainingSteps), TrainingSteps, 1, 1_000_000);
        Range(nameof(LoraRank), LoraRank, 1, 1024);
        Range(nameof(LoraAlpha), LoraAlpha, 0.001, 10000);
        Range(nameof(LearningRate), LearningRate, 1e-9, 1);
        Range(nameof(CheckpointEvery), CheckpointEvery, 1, 1_000_000);
        if (!ActorPromptTemplate.Contains("{description}", StringComparison.Ordinal))
            errors.Add("Characters:ActorPromptTemplate must contain {description}.");
        foreach (var (user, model) in UserModels)
            if (string.IsNullOrWhiteSpace(user) || string.IsNullOrWhiteSpace(model))
                errors.Add($"Characters:UserModels: user '{user}' needs a non-empty user name and model.");
        return errors;
    }
}

/// <summary>Hard limits of requests, independent of the deployment.</summary>
public static class CharacterLimits
{
    public const int MaxTrainingSetSize = 100;
    public const int MaxTextLength = 2000;
    public const int MaxNameLength = 200;
    public const int MaxClientRequestIdLength = 128;
    public const int MaxTriggerWordLength = 32;
}
