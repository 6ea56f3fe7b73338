using System.Text.Json.Nodes;

namespace CharacterGen.Server.Characters;

/// <summary>A render's resolved settings: every field set (request, else character, else deployment default).</summary>
public sealed record RenderParameters(int Width, int Height, int Steps, double Cfg, long Seed);

/// <summary>Builds each step's workflow from its template in the characters folder, parameters bound by title.</summary>
public sealed class StepWorkflows(string folder, CharacterOptions options)
{
    public string Folder { get; } = folder;

    public const string Base = "base.json";
    public const string BaseFromPhoto = "base_from_photo.json";
    public const string Variation = "variation.json";
    public const string Train = "train.json";
    public const string Scene = "scene.json";
    public const string ActorBase = "actor_base.json";

    public static readonly string[] All = [Base, BaseFromPhoto, Variation, Train, Scene, ActorBase];

    /// <summary>A base-image candidate: txt2img, or img2img from <paramref name="photoInput"/> (a name under input/).</summary>
    public StepWorkflow BaseImage(CharacterRecord c, RenderParameters render, string? photoInput, double photoStrength)
    {
        var workflow = Rendered(photoInput is null ? Base : BaseFromPhoto, c.Checkpoint, c.Description, c.NegativePrompt, render,
            $"characters/{c.Id}/base");
        if (photoInput is not null)
            workflow.Set(StepBindings.Photo, photoInput).Set(StepBindings.Denoise, photoStrength);
        return workflow;
    }

    /// <summary>One training-set image: img2img from the approved base image with the variation prompt.</summary>
    public StepWorkflow TrainingImage(CharacterRecord c, string baseInput, string prompt, RenderParameters render, double strength) =>
        Rendered(Variation, c.Checkpoint, VariationPrompt(c, prompt), c.NegativePrompt, render, $"characters/{c.Id}/training")
            .Set(StepBindings.BaseImage, baseInput)
            .Set(StepBindings.Denoise, strength);

    public StepWorkflow Training(CharacterRecord c, TrainingRunRecord run, string datasetFolder) =>
        StepWorkflow.Load(Folder, Train)
            .Set(StepBindings.Checkpoint, c.Checkpoint)
            .Set(StepBindings.TrainingSet, datasetFolder)
            .Set(StepBindings.LoraRank, run.Rank)
            .Set(StepBindings.LoraAlpha, run.Alpha)
            .Set(StepBindings.TrainingSteps, run.Steps)
            .Set(StepBindings.LearningRate, run.LearningRate)
            .Set(StepBindings.TrainingSeed, run.Seed)
            .Set(StepBindings.CheckpointEvery, Math.Min(options.CheckpointEvery, run.Steps))
            .Set(StepBindings.LoraPrefix, $"{CharacterLoras.OutputSubfolder}/{c.Id}/lora");

    public StepWorkflow SceneImage(CharacterRecord c, string prompt, string negative, RenderParameters render, double loraStrength) =>
        Rendered(Scene, c.Checkpoint, prompt, negative, render, $"characters/{c.Id}/scene")
            .Set(StepBindings.Lora, c.LoraName)
            .Set(StepBindings.LoraStrengthModel, loraStrength)
            .Set(StepBindings.LoraStrengthClip, loraStrength);

    public StepWorkflow Actor(string actor, string checkpoint, string prompt, RenderParameters render) =>
        Rendered(ActorBase, checkpoint, prompt, "", render, $"actors/{actor}/base");

    public StepWorkflow UserImage(string user, string model, string prompt, string negative, RenderParameters render) =>
        Rendered(Base, model, prompt, negative, render, $"users/{user}/image");

    /// <summary>What a training image is rendered from: the description (what the base model needs to draw the character), then the variation.</summary>
    public static string VariationPrompt(CharacterRecord c, string variationPrompt) => $"{c.Description}, {variationPrompt}";

    /// <summary>
    /// What a training image is trained with: the trigger word, then the variation. The description is left out so that
    /// the trigger word is the only words every caption shares: it comes to stand for everything that stays the same
    /// (the character), and a scene prompt "&lt;trigger&gt;, &lt;prompt&gt;" has the captions' shape.
    /// </summary>
    public static string TrainingCaption(CharacterRecord c, string variationPrompt) => $"{c.TriggerWord}, {variationPrompt}";

    private StepWorkflow Rendered(string name, string checkpoint, string prompt, string negative, RenderParameters render, string savePrefix)
    {
        var workflow = StepWorkflow.Load(Folder, name)
            .Set(StepBindings.Checkpoint, checkpoint)
            .Set(StepBindings.Prompt, prompt)
            .Set(StepBindings.NegativePrompt, negative)
            .Set(StepBindings.Width, render.Width)
            .Set(StepBindings.Height, render.Height)
            .Set(StepBindings.Seed, render.Seed)
            .Set(StepBindings.Steps, render.Steps)
            .Set(StepBindings.Cfg, render.Cfg);
        return workflow.Set(StepBindings.SavePrefix, savePrefix);
    }
}

/// <summary>Where character LoRAs live: written under output/, and read by LoraLoader through an extra loras folder.</summary>
public static class CharacterLoras
{
    /// <summary>SaveLoRA writes output/&lt;this&gt;/&lt;character id&gt;/lora_….safetensors.</summary>
    public const string OutputSubfolder = "character-loras";

    /// <summary>The extra "loras" folder the models tree reads, so scene.json's LoraLoader finds "&lt;id&gt;/lora_….safetensors".</summary>
    public static CharacterGen.Nodes.Files.ExtraModelFolder Folder(string dataDir) =>
        new("loras", Path.Combine(Path.GetFullPath(dataDir), "output", OutputSubfolder), IsDefault: false, Label: "data:output/" + OutputSubfolder);
}
